// Config -> YAML through protobuf reflection, plus the source-map helpers. See config_yaml.h.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "config/config_yaml.h"
#include "yaml-cpp/yaml.h"

namespace rwproxy::yaml {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// True when a plain scalar `s` would read as something other than a string to a YAML reader
// (number, bool, null), so it is quoted for people and other tools even though ParseConfig, which
// knows the schema, would not need it. yaml-cpp quotes everything else that needs it.
bool LooksTyped(const std::string& s) {
  if (s.empty()) return true;
  static constexpr const char* kWords[] = {"true", "false", "yes",   "no",   "on",
                                           "off",  "y",     "n",     "null", "~",
                                           ".inf", "-.inf", "+.inf", ".nan"};
  std::string lower = absl::AsciiStrToLower(s);
  for (const char* word : kWords) {
    if (lower == word) return true;
  }
  // Numbers in any YAML spelling: 12, -1, .5, 1e5, 0x1F, 0o17, 1_000, inf, nan.
  double d;
  if (absl::SimpleAtod(s, &d)) return true;
  bool numeric_start = absl::ascii_isdigit(s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.';
  return numeric_start && std::all_of(s.begin(), s.end(), [](char c) {
           return absl::ascii_isxdigit(c) ||
                  std::string_view("xXoO_.+-").find(c) != std::string_view::npos;
         });
}

// yaml-cpp writes a string with a carriage return (or another control character) as a plain
// scalar, whose edges a reader then trims (found by tests/fuzz/config_fuzz.cc): such strings are
// double-quoted, where they are escaped.
bool HasControlCharacter(const std::string& s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

void EmitString(YAML::Emitter& out, const std::string& s) {
  if (LooksTyped(s) || HasControlCharacter(s)) out << YAML::DoubleQuoted;
  out << s;
}

std::string DoubleText(double d) {
  if (std::isnan(d)) return ".nan";
  if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  return std::string(buf, end);
}

// Emits element `index` of a repeated field, or the singular value when index < 0.
void EmitScalar(YAML::Emitter& out, const Message& msg, const FieldDescriptor* f, int index) {
  const Reflection* r = msg.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      EmitString(out, rep ? r->GetRepeatedString(msg, f, index) : r->GetString(msg, f));
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out << (rep ? r->GetRepeatedBool(msg, f, index) : r->GetBool(msg, f));
      break;
    case FieldDescriptor::CPPTYPE_INT32:
      out << (rep ? r->GetRepeatedInt32(msg, f, index) : r->GetInt32(msg, f));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      out << absl::StrCat(rep ? r->GetRepeatedInt64(msg, f, index) : r->GetInt64(msg, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      out << (rep ? r->GetRepeatedUInt32(msg, f, index) : r->GetUInt32(msg, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      out << absl::StrCat(rep ? r->GetRepeatedUInt64(msg, f, index) : r->GetUInt64(msg, f));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      out << DoubleText(rep ? r->GetRepeatedFloat(msg, f, index) : r->GetFloat(msg, f));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      out << DoubleText(rep ? r->GetRepeatedDouble(msg, f, index) : r->GetDouble(msg, f));
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      out << (rep ? r->GetRepeatedEnum(msg, f, index) : r->GetEnum(msg, f))->name();
      break;
    default:
      break;
  }
}

// Map keys are scalars; render one as text so entries can be sorted and emitted as keys.
std::string MapKeyText(const Message& entry, const FieldDescriptor* key) {
  YAML::Emitter out;
  EmitScalar(out, entry, key, -1);
  return out.c_str();
}

// The key a field is written under. ToYaml writes Match.legacy_headers as `headers:` (a map), the
// form ParseConfig reads into it, unless the list form `headers:` is set too (only possible
// through the API); then both are written under their own names.
std::string KeyFor(const Message& msg, const FieldDescriptor* f, bool all) {
  using config::v1::Match;
  if (all || f->containing_type() != Match::descriptor() ||
      f->number() != Match::kLegacyHeadersFieldNumber) {
    return f->name();
  }
  const FieldDescriptor* list = Match::descriptor()->FindFieldByNumber(Match::kHeadersFieldNumber);
  return msg.GetReflection()->FieldSize(msg, list) == 0 ? list->name() : f->name();
}

// `all`: every field, defaults included (as proto3 JSON with defaults), except unset
// sub-messages and unset members of a oneof; otherwise only the fields that are set.
void EmitMessage(YAML::Emitter& out, const Message& msg, bool all);

void EmitValue(YAML::Emitter& out, const Message& msg, const FieldDescriptor* f, int index,
               bool all) {
  const Reflection* r = msg.GetReflection();
  if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
    EmitScalar(out, msg, f, index);
  } else if (index >= 0) {
    EmitMessage(out, r->GetRepeatedMessage(msg, f, index), all);
  } else {
    EmitMessage(out, r->GetMessage(msg, f), all);
  }
}

void EmitMap(YAML::Emitter& out, const Message& msg, const FieldDescriptor* f, bool all) {
  const Reflection* r = msg.GetReflection();
  const FieldDescriptor* key = f->message_type()->map_key();
  const FieldDescriptor* value = f->message_type()->map_value();
  std::vector<std::pair<std::string, const Message*>> entries;
  for (int i = 0; i < r->FieldSize(msg, f); ++i) {
    const Message& entry = r->GetRepeatedMessage(msg, f, i);
    entries.emplace_back(MapKeyText(entry, key), &entry);
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  out << YAML::BeginMap;
  for (const auto& [text, entry] : entries) {
    out << YAML::Key;
    EmitScalar(out, *entry, key, -1);
    out << YAML::Value;
    EmitValue(out, *entry, value, -1, all);
  }
  out << YAML::EndMap;
}

void EmitMessage(YAML::Emitter& out, const Message& msg, bool all) {
  const Reflection* r = msg.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  if (all) {
    const google::protobuf::Descriptor* d = msg.GetDescriptor();
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      const bool singular_message =
          !f->is_repeated() && f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
      if ((singular_message || f->containing_oneof() != nullptr) && !r->HasField(msg, f)) continue;
      fields.push_back(f);
    }
  } else {
    r->ListFields(msg, &fields);  // set fields only, in field-number order
  }
  if (fields.empty()) out << YAML::Flow;  // `tls: {}`, not `tls:` and `{}` on the next line
  out << YAML::BeginMap;
  for (const FieldDescriptor* f : fields) {
    out << YAML::Key << KeyFor(msg, f, all) << YAML::Value;
    if (f->is_map()) {
      EmitMap(out, msg, f, all);
    } else if (f->is_repeated()) {
      if (r->FieldSize(msg, f) == 0) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (int i = 0; i < r->FieldSize(msg, f); ++i) EmitValue(out, msg, f, i, all);
      out << YAML::EndSeq;
    } else {
      EmitValue(out, msg, f, -1, all);
    }
  }
  out << YAML::EndMap;
}

std::string Emit(const Message& msg, bool all) {
  YAML::Emitter out;
  out.SetIndent(2);
  EmitMessage(out, msg, all);
  std::string text = out.c_str();
  text.push_back('\n');
  return text;
}

}  // namespace

std::string ToYaml(const config::v1::Config& config) { return Emit(config, false); }

std::string MessageToYaml(const google::protobuf::Message& message) { return Emit(message, true); }

Position Locate(const SourceMap& map, std::string_view field) {
  std::string path(field);
  while (true) {
    if (auto it = map.find(path); it != map.end()) return it->second;
    if (path.empty()) return {};
    size_t cut = path.find_last_of(".[");
    path.resize(cut == std::string::npos ? 0 : cut);
  }
}

std::string FormatError(std::string_view file, Position pos, std::string_view field,
                        std::string_view message) {
  // absl::string_view is not std::string_view in this Abseil build.
  auto view = [](std::string_view s) { return absl::string_view(s.data(), s.size()); };
  std::string text;
  if (!file.empty()) absl::StrAppend(&text, view(file), ":");
  if (pos.line > 0) absl::StrAppend(&text, pos.line, ":", pos.column, ":");
  if (!text.empty()) text.push_back(' ');
  if (!field.empty()) absl::StrAppend(&text, view(field), ": ");
  absl::StrAppend(&text, view(message));
  return text;
}

}  // namespace rwproxy::yaml
