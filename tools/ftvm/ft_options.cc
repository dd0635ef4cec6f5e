#include "tools/ftvm/ft_options.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/log.h"
#include "common/status.h"
#include "logchannel/handshake.h"

namespace ft {

absl::StatusOr<std::string> FtOptions::ReadSecret() const {
  const std::string option = absl::StrCat("--", prefix, "secret-file");
  if (secret_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(option, " FILE is required"));
  }
  absl::StatusOr<std::string> secret = ReadSecretFile(secret_file);
  if (!secret.ok()) {
    return absl::Status(secret.status().code(),
                        absl::StrCat(option, ": ", secret.status().message()));
  }
  return secret;
}

void AddFtOptions(cli::ArgParser& parser, FtOptions* options) {
  parser.AddString(
      options->prefix + "secret-file", "FILE",
      "The pair's shared secret (required): the first line of FILE, at "
      "least 16 bytes, the same on both sides. FILE must not be readable by "
      "other users (mode 600).",
      &options->secret_file);
  parser.AddString(options->prefix + "interface", "IFNAME",
                   "Also bind the log channel's socket (the connection or "
                   "the listener) to this interface.",
                   &options->interface);
  parser.AddBool(options->prefix + "plaintext",
                 "Carry the log unencrypted (still authenticated); both "
                 "sides must say so.",
                 &options->plaintext);
}

absl::Status ProcessOptions::ApplyLogLevel() const {
  absl::StatusOr<LogLevel> level = ParseLogLevel(log_level);
  if (!level.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--log-level: ", level.status().message()));
  }
  SetMinLogLevel(*level);
  return absl::OkStatus();
}

void AddProcessOptions(cli::ArgParser& parser, ProcessOptions* options) {
  parser.AddString("kvm", "PATH", "KVM device.", &options->kvm_device);
  parser.AddString("log-level", "LEVEL", "debug, info, warning or error.",
                   &options->log_level);
}

absl::StatusOr<HostPort> ParseHostPort(const std::string& text) {
  std::string host;
  std::string port;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() ||
        text[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrFormat(
          "'%s': expected [IPV6]:PORT, e.g. [fd00::2]:7400", text));
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "'%s': expected ADDRESS:PORT, e.g. 198.18.0.2:7400", text));
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  in6_addr v6;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) != 1 &&
      inet_pton(AF_INET6, host.c_str(), &v6) != 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "'%s' is not an IP address (host names are not resolved on the FT "
        "path)",
        host));
  }
  uint32_t p = 0;
  if (!absl::SimpleAtoi(port, &p) || p == 0 || p > 65535) {
    return absl::InvalidArgumentError(
        absl::StrFormat("'%s' is not a port (1..65535)", port));
  }
  return HostPort{.host = host, .port = static_cast<uint16_t>(p)};
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return ErrnoStatus(errno, absl::StrFormat("secret file %s", path));
  }
  if ((st.st_mode & 0077) != 0) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "secret file %s can be read by other users (mode %03o): chmod 600 it",
        path, st.st_mode & 0777));
  }
  std::ifstream in(path);
  std::string secret;
  if (!in || !std::getline(in, secret)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("secret file %s is empty or unreadable", path));
  }
  if (secret.size() < logchannel::kMinSecretBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the secret in %s is %u bytes; at least %u are needed (e.g. "
        "`openssl rand -hex 32 > %s`)",
        path, secret.size(), logchannel::kMinSecretBytes, path));
  }
  return secret;
}

void WriteMetricsFile(const metrics::Registry& registry,
                      const std::string& path) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << registry.ExportPrometheus();
    if (!out.flush()) {
      FT_LOG(kWarning) << "cannot write metrics to " << tmp;
      return;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    FT_LOG(kWarning) << "cannot rename " << tmp << " to " << path << ": "
                     << std::strerror(errno);
  }
}

MetricsWriter::MetricsWriter(const metrics::Registry& registry,
                             std::string path)
    : registry_(registry), path_(std::move(path)) {
  if (path_.empty()) return;
  thread_ = std::thread([this] {
    absl::MutexLock lock(&mu_);
    while (!mu_.AwaitWithTimeout(absl::Condition(&done_), absl::Seconds(1))) {
      WriteMetricsFile(registry_, path_);
    }
  });
}

void MetricsWriter::Finish() {
  {
    absl::MutexLock lock(&mu_);
    if (done_) return;
    done_ = true;
  }
  if (thread_.joinable()) thread_.join();
  if (!path_.empty()) WriteMetricsFile(registry_, path_);
}

}  // namespace ft
