-- azaudit language server configuration for Neovim 0.11+ (`vim.lsp.config` reads this file from
-- 'runtimepath'); plugin/azaudit.lua enables it, and reuses it on older versions.

---@type vim.lsp.Config
return {
  cmd = { 'azaudit', 'lsp' },
  filetypes = { 'bicep', 'bicep-params', 'json', 'jsonc' },
  root_markers = { 'bicepconfig.json', '.git' },
  -- Neovim calls `.bicepparam` files `bicep`; the server wants to know they are parameters.
  get_language_id = function(bufnr, filetype)
    local name = vim.api.nvim_buf_get_name(bufnr)
    if name:match('%.bicepparam$') then
      return 'bicep-params'
    end
    return filetype
  end,
  -- Per-policy levels: { azaudit = { rules = { ['<policy-id>'] = { level = 'off' } } } }.
  init_options = { azaudit = { rules = {} } },
  settings = { azaudit = { rules = {} } },
}
