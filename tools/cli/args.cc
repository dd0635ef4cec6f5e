#include "tools/cli/args.h"

#include <cstdio>
#include <limits>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ft::cli {

absl::StatusOr<uint64_t> ParseSize(std::string_view input) {
  const absl::string_view text(input.data(), input.size());
  std::string s = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text));
  absl::string_view v = s;
  if (!absl::ConsumeSuffix(&v, "IB")) absl::ConsumeSuffix(&v, "B");
  int shift = 0;
  if (!v.empty()) {
    switch (v.back()) {
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      case 'T':
        shift = 40;
        break;
      default:
        break;
    }
    if (shift != 0) v.remove_suffix(1);
  }
  uint64_t n;
  if (v.empty() || !absl::SimpleAtoi(v, &n) || v.front() == '-' ||
      v.front() == '+') {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a size (use e.g. 256M, 1G, 4096)"));
  }
  if (n > (std::numeric_limits<uint64_t>::max() >> shift)) {
    return absl::InvalidArgumentError(
        absl::StrCat("size '", text, "' is too large"));
  }
  return n << shift;
}

ArgParser::ArgParser(std::string usage, std::string summary)
    : usage_(std::move(usage)), summary_(std::move(summary)) {}

void ArgParser::AddString(std::string name, std::string value_name,
                          std::string help, std::string* target) {
  options_.push_back({std::move(name), std::move(value_name), std::move(help),
                      Kind::kString, target, *target});
}

void ArgParser::AddStringList(std::string name, std::string value_name,
                              std::string help,
                              std::vector<std::string>* target) {
  options_.push_back({std::move(name), std::move(value_name),
                      std::move(help) + " Repeatable.", Kind::kStringList,
                      target, ""});
}

void ArgParser::AddSize(std::string name, std::string help, uint64_t* target) {
  std::string def = *target % (1 << 20) == 0 ? absl::StrCat(*target >> 20, "M")
                                             : absl::StrCat(*target);
  options_.push_back(
      {std::move(name), "SIZE", std::move(help), Kind::kSize, target, def});
}

void ArgParser::AddBool(std::string name, std::string help, bool* target) {
  options_.push_back(
      {std::move(name), "", std::move(help), Kind::kBool, target, ""});
}

const ArgParser::Option* ArgParser::Find(std::string_view name) const {
  for (const Option& o : options_) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

absl::Status ArgParser::Apply(const Option& opt, std::string_view value) {
  switch (opt.kind) {
    case Kind::kString:
      *static_cast<std::string*>(opt.target) = std::string(value);
      return absl::OkStatus();
    case Kind::kStringList:
      static_cast<std::vector<std::string>*>(opt.target)->emplace_back(value);
      return absl::OkStatus();
    case Kind::kSize: {
      absl::StatusOr<uint64_t> size = ParseSize(value);
      if (!size.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", opt.name, ": ", size.status().message()));
      }
      *static_cast<uint64_t*>(opt.target) = *size;
      return absl::OkStatus();
    }
    case Kind::kBool:
      *static_cast<bool*>(opt.target) = true;
      return absl::OkStatus();
  }
  return absl::InternalError("unknown option kind");
}

absl::StatusOr<std::vector<std::string>> ArgParser::Parse(
    const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (arg == "--help" || arg == "-h") {
      help_requested_ = true;
      continue;
    }
    if (!absl::ConsumePrefix(&arg, "--")) {
      positional.emplace_back(arg);
      continue;
    }
    absl::string_view name = arg;
    std::optional<absl::string_view> value;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    const Option* opt = Find(std::string_view(name.data(), name.size()));
    if (opt == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option --", name, " (see --help)"));
    }
    if (opt->kind == Kind::kBool) {
      if (value) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " takes no value"));
      }
      *static_cast<bool*>(opt->target) = true;
      continue;
    }
    if (!value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--", name, " needs a value (--", name, " ", opt->value_name, ")"));
      }
      value = args[++i];
    }
    absl::Status s =
        Apply(*opt, std::string_view(value->data(), value->size()));
    if (!s.ok()) return s;
  }
  return positional;
}

std::string ArgParser::Help() const {
  std::string out = absl::StrCat("Usage: ", usage_, "\n\n", summary_, "\n");
  if (!options_.empty()) absl::StrAppend(&out, "\nOptions:\n");
  for (const Option& o : options_) {
    std::string left = absl::StrCat("  --", o.name);
    if (!o.value_name.empty()) absl::StrAppend(&left, " ", o.value_name);
    std::string help = o.help;
    if (!o.default_text.empty()) {
      absl::StrAppend(&help, " (default: ", o.default_text, ")");
    }
    // Help text wrapped at 80 columns, indented under the option column.
    std::vector<std::string> lines(1);
    for (absl::string_view word :
         absl::StrSplit(help, ' ', absl::SkipEmpty())) {
      if (!lines.back().empty() && lines.back().size() + 1 + word.size() > 56) {
        lines.emplace_back();
      }
      if (!lines.back().empty()) lines.back() += ' ';
      absl::StrAppend(&lines.back(), word);
    }
    if (left.size() < 24) {
      absl::StrAppendFormat(&out, "%-24s%s\n", left, lines[0]);
    } else {
      absl::StrAppend(&out, left, "\n", std::string(24, ' '), lines[0], "\n");
    }
    for (size_t i = 1; i < lines.size(); ++i) {
      absl::StrAppend(&out, std::string(24, ' '), lines[i], "\n");
    }
  }
  absl::StrAppendFormat(&out, "%-24s%s\n", "  -h, --help",
                        "Show this help and exit.");
  if (!epilog_.empty()) absl::StrAppend(&out, "\n", epilog_);
  return out;
}

int UsageError(std::string_view command, std::string_view why) {
  const absl::string_view w(why.data(), why.size());
  std::string line =
      absl::StrCat(absl::string_view(command.data(), command.size()), ": ", w);
  if (!absl::EndsWith(w, "(see --help)")) {
    absl::StrAppend(&line, " (see --help)");
  }
  std::fprintf(stderr, "%s\n", line.c_str());
  return kExitUsage;
}

int UsageError(std::string_view command, const absl::Status& why) {
  return UsageError(command, std::string(why.message()));
}

std::optional<std::vector<std::string>> ParseCommandLine(
    ArgParser& parser, std::string_view command,
    const std::vector<std::string>& args, int* exit_code) {
  absl::StatusOr<std::vector<std::string>> rest = parser.Parse(args);
  if (parser.help_requested()) {
    std::fputs(parser.Help().c_str(), stdout);
    *exit_code = 0;
    return std::nullopt;
  }
  if (!rest.ok()) {
    *exit_code = UsageError(command, rest.status());
    return std::nullopt;
  }
  return *std::move(rest);
}

bool ParseOptions(ArgParser& parser, std::string_view command,
                  const std::vector<std::string>& args, int* exit_code) {
  std::optional<std::vector<std::string>> rest =
      ParseCommandLine(parser, command, args, exit_code);
  if (!rest.has_value()) return false;
  if (!rest->empty()) {
    *exit_code = UsageError(
        command, absl::StrCat("unexpected argument '", rest->front(), "'"));
    return false;
  }
  return true;
}

}  // namespace ft::cli
