// Options shared by `ftvm primary` and `ftvm secondary` (and, for the log
// channel, bench/channel_throughput): the FT network address, the shared
// secret, the interface, plaintext mode, the KVM device and the log level.
#ifndef FTVM_TOOLS_FTVM_FT_OPTIONS_H_
#define FTVM_TOOLS_FTVM_FT_OPTIONS_H_

#include <cstdint>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics.h"
#include "logchannel/channel.h"
#include "tools/cli/args.h"

namespace ft {

// The log channel's options: --ft-secret-file FILE, --ft-interface IFNAME
// and --ft-plaintext.
struct FtOptions {
  // The options' names start with "--" and this: bench/channel_throughput,
  // which has no options of another kind, gives "".
  std::string prefix = "ft-";
  std::string secret_file;
  std::string interface;  // empty: any
  bool plaintext = false;

  logchannel::Security security() const {
    return plaintext ? logchannel::Security::kPlaintext
                     : logchannel::Security::kEncrypted;
  }
  // The secret in the --ft-secret-file (which is required), as
  // ReadSecretFile reads it; the error names the option.
  absl::StatusOr<std::string> ReadSecret() const;
};

// Adds the FtOptions to `parser`, which fills in `*options` (it must
// outlive the parsing).
void AddFtOptions(cli::ArgParser& parser, FtOptions* options);

// The process's own options, which every ftvm command that runs a guest
// takes: --kvm PATH and --log-level LEVEL.
struct ProcessOptions {
  std::string kvm_device = "/dev/kvm";
  std::string log_level = "info";

  // Sets the process's minimum log level to --log-level; the error names
  // the option.
  absl::Status ApplyLogLevel() const;
};

void AddProcessOptions(cli::ArgParser& parser, ProcessOptions* options);

struct HostPort {
  std::string host;  // an IP literal (no brackets)
  uint16_t port = 0;
};

// "198.18.0.2:7400" or "[fd00::2]:7400". Host names are refused: the FT
// path must not depend on a resolver.
absl::StatusOr<HostPort> ParseHostPort(const std::string& text);

// The shared secret in `path`: its first line, at least 16 bytes. Refuses a
// file that other users can read.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path);

// Writes `registry` in the Prometheus text format to `path` (replaced
// atomically: a scraper never sees half a file). Errors are logged.
void WriteMetricsFile(const metrics::Registry& registry,
                      const std::string& path);

// Writes a registry to a file every second while it lives, and once more
// at Finish (or destruction). Does nothing for an empty path.
class MetricsWriter {
 public:
  MetricsWriter(const metrics::Registry& registry, std::string path);
  ~MetricsWriter() { Finish(); }
  MetricsWriter(const MetricsWriter&) = delete;
  MetricsWriter& operator=(const MetricsWriter&) = delete;
  void Finish();

 private:
  const metrics::Registry& registry_;
  const std::string path_;
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace ft

#endif  // FTVM_TOOLS_FTVM_FT_OPTIONS_H_
