#include "cli/table.h"

#include <algorithm>

namespace rwproxy::cli {

std::string RenderTable(const std::vector<TableRow>& rows) {
  std::vector<size_t> widths;
  for (const TableRow& row : rows) {
    if (widths.size() < row.cells.size()) widths.resize(row.cells.size());
    for (size_t i = 0; i < row.cells.size(); ++i) {
      widths[i] = std::max(widths[i], row.cells[i].size());
    }
  }
  std::string out;
  for (const TableRow& row : rows) {
    if (!row.line.empty()) {
      out.append(row.line).push_back('\n');
      continue;
    }
    std::string line;
    for (size_t i = 0; i < row.cells.size(); ++i) {
      line.append(row.cells[i]);
      if (i + 1 < row.cells.size()) line.append(widths[i] - row.cells[i].size() + 2, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out.append(line).push_back('\n');
  }
  return out;
}

std::string Printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

}  // namespace rwproxy::cli
