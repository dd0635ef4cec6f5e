// In-process transports, for tests: two connected ends in memory, with a
// bounded buffer per direction so that a peer that does not read makes the
// writer block, as a socket would.
//
// Semantics follow TCP: ShutdownWrite lets the peer read what was written and
// then the end of the stream; Shutdown (or destroying an end) does the same
// and also makes the peer's writes fail with Unavailable.
//
// Thread ownership: as Transport (transport.h); the listener and connector
// are thread-safe.
#ifndef FTVM_LOGCHANNEL_INPROC_TRANSPORT_H_
#define FTVM_LOGCHANNEL_INPROC_TRANSPORT_H_

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "logchannel/transport.h"

namespace ft::logchannel {

struct InProcOptions {
  // Bytes each direction buffers before Write blocks.
  size_t capacity_bytes = 256 * 1024;
  // Names the ends in Describe(): "inproc <name>/a", "inproc <name>/b".
  std::string name = "pair";
};

// Two connected ends.
std::pair<std::unique_ptr<Transport>, std::unique_ptr<Transport>>
MakeInProcPair(const InProcOptions& options = {});

// A listener that in-process connectors reach (for code that takes a
// Listener and a Connector, like the primary and secondary runtimes).
class InProcListener : public Listener {
 public:
  explicit InProcListener(InProcOptions options = {});
  // Connectors made earlier are refused from now on.
  ~InProcListener() override;

  absl::StatusOr<std::unique_ptr<Transport>> Accept(
      absl::Time deadline) override;
  std::string Describe() const override;

  // A connector to this listener; it may outlive the listener (it then fails
  // with Unavailable, like a connection refused).
  std::unique_ptr<Connector> MakeConnector() const;

  struct State;  // shared with the connectors

 private:
  std::shared_ptr<State> state_;
};

}  // namespace ft::logchannel

#endif  // FTVM_LOGCHANNEL_INPROC_TRANSPORT_H_
