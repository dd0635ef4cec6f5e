#include "common/status.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace ft {

namespace {

// Debian's abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW 0, so
// absl::string_view is its own type and StrCat does not take a
// std::string_view.
absl::string_view AbslView(std::string_view s) { return {s.data(), s.size()}; }

// strerror() may share a buffer between threads; strerrordesc_np (glibc
// 2.32) returns a constant string.
const char* StrError(int err) {
  const char* text = strerrordesc_np(err);
  return text != nullptr ? text : "unknown error";
}

}  // namespace

absl::Status ErrnoStatus(int err, std::string_view what) {
  // absl::ErrnoToStatusCode maps errno to the canonical code space. errno 0
  // maps to kOk, which would silently turn an error path into success (and
  // drop the message), so it becomes kUnknown instead.
  absl::StatusCode code =
      err == 0 ? absl::StatusCode::kUnknown : absl::ErrnoToStatusCode(err);
  return absl::Status(code, absl::StrCat(AbslView(what), ": ", StrError(err)));
}

absl::Status Annotate(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat(AbslView(context), ": ", status.message()));
}

}  // namespace ft
