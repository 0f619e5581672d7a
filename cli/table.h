// Plain-text tables for rwctl's human output: columns padded to their widest cell, two spaces
// between columns, no trailing spaces.
//
// Ownership: free functions over caller-owned values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CLI_TABLE_H_
#define RWPROXY_CLI_TABLE_H_

#include <string>
#include <string_view>
#include <vector>

namespace rwproxy::cli {

// A row: aligned cells, or (when `line` is not empty) a line printed as it is whose first cell
// still counts for the first column's width.
struct TableRow {
  std::vector<std::string> cells;
  std::string line;
};

// Every row, one line each. Rows may have fewer cells than others (the rest are empty).
std::string RenderTable(const std::vector<TableRow>& rows);

// `text` with control characters shown as '?', so that a cell never breaks a line.
std::string Printable(std::string_view text);

}  // namespace rwproxy::cli

#endif  // RWPROXY_CLI_TABLE_H_
