-- Headless Neovim check of the azaudit language server, run by tests/lsp/nvim.rs:
--   nvim --headless --clean --cmd 'set rtp^=editors/nvim' -c 'luafile tests/nvim/check_diagnostics.lua'
-- Environment:
--   AZAUDIT_NVIM_CMD     `tcp:<port>` (a server the test runs) or the path of the azaudit binary
--   AZAUDIT_NVIM_FILE    the file to open
--   AZAUDIT_NVIM_EXPECT  `code@line|line,...`: each code expected at one of these 1-based lines
--   AZAUDIT_NVIM_FIX     `from=>to`: replaced in the first line containing `from`, after which
--                        the expected codes must clear (other policies' diagnostics may stay)
-- Exits 0 when everything holds, else 1 with the reason on stderr.

local function log(msg)
  io.stderr:write(msg .. '\n')
end

local function fail(msg)
  log('FAIL: ' .. msg)
  vim.cmd('cquit 1')
end

local function env(name)
  local value = os.getenv(name)
  if value == nil or value == '' then
    fail('missing environment variable ' .. name)
  end
  return value
end

local cmd_spec = env('AZAUDIT_NVIM_CMD')
local file = env('AZAUDIT_NVIM_FILE')
local expect = env('AZAUDIT_NVIM_EXPECT')
local fix = env('AZAUDIT_NVIM_FIX')

local cmd
local port = cmd_spec:match('^tcp:(%d+)$')
if port ~= nil then
  cmd = vim.lsp.rpc.connect('127.0.0.1', tonumber(port))
else
  cmd = { cmd_spec, 'lsp' }
end

if vim.lsp.config ~= nil then
  vim.lsp.config('azaudit', { cmd = cmd, init_options = { azaudit = { debounceMs = 0 } } })
else
  if type(cmd) ~= 'table' then
    fail('a TCP server needs Neovim 0.11+')
  end
  vim.g.azaudit_config = { cmd = cmd }
end
vim.cmd('runtime! plugin/azaudit.lua')

vim.cmd('edit ' .. vim.fn.fnameescape(file))
local bufnr = vim.api.nvim_get_current_buf()

local function clients()
  if vim.lsp.get_clients ~= nil then
    return vim.lsp.get_clients({ bufnr = bufnr })
  end
  return vim.lsp.buf_get_clients(bufnr)
end

local function describe(diagnostics)
  local parts = {}
  for _, d in ipairs(diagnostics) do
    table.insert(parts, string.format('%s@%d', tostring(d.code), d.lnum + 1))
  end
  return table.concat(parts, ', ')
end

local got = vim.wait(20000, function()
  return #vim.diagnostic.get(bufnr) > 0
end, 50)
if not got then
  fail(string.format('no diagnostics for %s (filetype %q, %d client(s))', file, vim.bo[bufnr].filetype,
    vim.tbl_count(clients())))
end
-- Let the rest of the first round arrive.
vim.wait(200)
local diagnostics = vim.diagnostic.get(bufnr)
log('diagnostics: ' .. describe(diagnostics))

local expected_codes = {}
for item in expect:gmatch('[^,]+') do
  local code, lines = item:match('^(.-)@(.*)$')
  expected_codes[code] = true
  local found = false
  for line in lines:gmatch('%d+') do
    for _, d in ipairs(diagnostics) do
      if d.code == code and d.lnum + 1 == tonumber(line) then
        found = true
      end
    end
  end
  if not found then
    fail(string.format('expected %s at line %s, got: %s', code, lines, describe(diagnostics)))
  end
end

local from, to = fix:match('^(.-)=>(.*)$')
local text = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
local fixed = false
for i, line in ipairs(text) do
  local s, e = line:find(from, 1, true)
  if s ~= nil then
    local new = line:sub(1, s - 1) .. to .. line:sub(e + 1)
    vim.api.nvim_buf_set_lines(bufnr, i - 1, i, false, { new })
    fixed = true
    break
  end
end
if not fixed then
  fail('no line contains ' .. from)
end

local function remaining()
  local left = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if expected_codes[d.code] then
      table.insert(left, d)
    end
  end
  return left
end

local cleared = vim.wait(20000, function()
  return #remaining() == 0
end, 50)
if not cleared then
  fail('diagnostics did not clear after the fix: ' .. describe(remaining()))
end
log('after the fix: ' .. describe(vim.diagnostic.get(bufnr)))
log('PASS')
vim.cmd('qall!')
