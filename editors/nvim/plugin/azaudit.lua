-- azaudit for Neovim: enables the `azaudit` language server for Bicep and ARM templates.
-- Neovim 0.11+: `vim.lsp.enable('azaudit')` with lsp/azaudit.lua. Older versions (0.7 to 0.10):
-- the same configuration started from a FileType autocommand.
-- Set `vim.g.azaudit_enable = false` before this runs to configure the server yourself.

if vim.g.loaded_azaudit then
  return
end
vim.g.loaded_azaudit = true

-- `.bicepparam` files, for versions whose filetype detection doesn't know them.
vim.cmd([[
  augroup azaudit_filetype
    autocmd!
    autocmd BufNewFile,BufRead *.bicep if &filetype ==# '' | setfiletype bicep | endif
    autocmd BufNewFile,BufRead *.bicepparam if &filetype ==# '' | setfiletype bicep-params | endif
  augroup END
]])

if vim.g.azaudit_enable == false then
  return
end

if vim.lsp.config ~= nil and vim.lsp.enable ~= nil then
  vim.lsp.enable('azaudit')
  return
end

-- Older Neovim: start (or reuse) a client per root directory.
local function load_config()
  local file = vim.api.nvim_get_runtime_file('lsp/azaudit.lua', false)[1]
  if file == nil then
    return nil
  end
  local ok, config = pcall(dofile, file)
  if not ok or type(config) ~= 'table' then
    return nil
  end
  return vim.tbl_deep_extend('force', config, vim.g.azaudit_config or {})
end

local function find_root(bufnr, markers)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local dir = vim.fn.fnamemodify(name, ':p:h')
  while dir ~= nil and dir ~= '' do
    for _, marker in ipairs(markers) do
      if vim.loop.fs_stat(dir .. '/' .. marker) ~= nil then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      break
    end
    dir = parent
  end
  return vim.fn.fnamemodify(name, ':p:h')
end

local clients = {}

local function attach(args)
  local config = load_config()
  if config == nil then
    return
  end
  local bufnr = args.buf
  local root = find_root(bufnr, config.root_markers or {})
  config.root_dir = root
  config.name = 'azaudit'
  config.root_markers = nil
  config.filetypes = nil
  local language_id = config.get_language_id
  config.get_language_id = function(b, ft)
    return language_id(b, ft)
  end
  if vim.lsp.start ~= nil then
    vim.lsp.start(config, { bufnr = bufnr })
    return
  end
  -- Neovim 0.7: no vim.lsp.start.
  local id = clients[root]
  if id == nil or vim.lsp.get_client_by_id(id) == nil then
    id = vim.lsp.start_client(config)
    clients[root] = id
  end
  if id ~= nil then
    vim.lsp.buf_attach_client(bufnr, id)
  end
end

vim.api.nvim_create_autocmd('FileType', {
  group = vim.api.nvim_create_augroup('azaudit_lsp', { clear = true }),
  pattern = { 'bicep', 'bicep-params', 'json', 'jsonc' },
  callback = attach,
})
