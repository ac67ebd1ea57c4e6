-- Typst reads "--", "---" and "..." in running text as dashes and an ellipsis, and pandoc writes
-- them as they are. The text of this manuscript means them literally (text from the raw tables
-- must reach the PDF verbatim), so in Typst output such text becomes a Typst string, which is
-- shown exactly; the `;` ends the embedded expression.
local shorthand = { "%-%-", "%.%.%." }

function Str(el)
  for _, pattern in ipairs(shorthand) do
    if el.text:find(pattern) then
      local quoted = el.text:gsub("\\", "\\\\"):gsub('"', '\\"')
      return pandoc.RawInline("typst", '#"' .. quoted .. '";')
    end
  end
end
