#include "logchannel/inproc_transport.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/check.h"

namespace ft::logchannel {
namespace {

// One direction: a bounded byte queue with both ends' states.
class Pipe {
 public:
  explicit Pipe(size_t capacity) : capacity_(capacity) {}

  absl::Status Write(std::span<const uint8_t> bytes, const std::string& who) {
    absl::MutexLock lock(&mu_);
    while (!bytes.empty()) {
      while (!writer_gone_ && !reader_gone_ && data_.size() >= capacity_) {
        cv_.Wait(&mu_);
      }
      if (writer_gone_) {
        return absl::CancelledError(absl::StrCat(who, ": shut down"));
      }
      if (reader_gone_) {
        return absl::UnavailableError(
            absl::StrCat(who, ": the peer closed the connection"));
      }
      const size_t n = std::min(bytes.size(), capacity_ - data_.size());
      data_.insert(data_.end(), bytes.begin(), bytes.begin() + n);
      bytes = bytes.subspan(n);
      cv_.SignalAll();
    }
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> TryWrite(std::span<const uint8_t> bytes,
                                  const std::string& who) {
    absl::MutexLock lock(&mu_);
    if (writer_gone_) {
      return absl::CancelledError(absl::StrCat(who, ": shut down"));
    }
    if (reader_gone_) {
      return absl::UnavailableError(
          absl::StrCat(who, ": the peer closed the connection"));
    }
    const size_t n =
        std::min(bytes.size(), capacity_ - std::min(capacity_, data_.size()));
    data_.insert(data_.end(), bytes.begin(), bytes.begin() + n);
    if (n > 0) cv_.SignalAll();
    return n;
  }

  absl::StatusOr<size_t> Read(std::span<uint8_t> buf, absl::Time deadline,
                              const std::string& who) {
    FT_CHECK(!buf.empty()) << "Read into an empty buffer";
    absl::MutexLock lock(&mu_);
    while (!reader_gone_ && data_.empty() && !writer_gone_) {
      // WaitWithDeadline returns true when the deadline passed.
      if (cv_.WaitWithDeadline(&mu_, deadline)) {
        if (!reader_gone_ && data_.empty() && !writer_gone_) {
          return absl::DeadlineExceededError(
              absl::StrCat(who, ": nothing to read before the deadline"));
        }
      }
    }
    if (reader_gone_) {
      return absl::CancelledError(absl::StrCat(who, ": shut down"));
    }
    if (data_.empty()) return 0;  // writer_gone_: end of stream
    const size_t n = std::min(buf.size(), data_.size());
    std::copy(data_.begin(), data_.begin() + n, buf.begin());
    data_.erase(data_.begin(), data_.begin() + n);
    cv_.SignalAll();
    return n;
  }

  void CloseWrite() {
    absl::MutexLock lock(&mu_);
    writer_gone_ = true;
    cv_.SignalAll();
  }
  void CloseRead() {
    absl::MutexLock lock(&mu_);
    reader_gone_ = true;
    cv_.SignalAll();
  }

 private:
  const size_t capacity_;
  absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<uint8_t> data_ ABSL_GUARDED_BY(mu_);
  bool writer_gone_ ABSL_GUARDED_BY(mu_) = false;
  bool reader_gone_ ABSL_GUARDED_BY(mu_) = false;
};

class InProcTransport : public Transport {
 public:
  InProcTransport(std::shared_ptr<Pipe> in, std::shared_ptr<Pipe> out,
                  std::string name)
      : in_(std::move(in)), out_(std::move(out)), name_(std::move(name)) {}
  ~InProcTransport() override { Shutdown(); }

  absl::Status Write(std::span<const uint8_t> bytes) override {
    return out_->Write(bytes, name_);
  }
  absl::StatusOr<size_t> TryWrite(std::span<const uint8_t> bytes) override {
    return out_->TryWrite(bytes, name_);
  }
  absl::StatusOr<size_t> Read(std::span<uint8_t> buf,
                              absl::Time deadline) override {
    return in_->Read(buf, deadline, name_);
  }
  void ShutdownWrite() override { out_->CloseWrite(); }
  void Shutdown() override {
    out_->CloseWrite();
    in_->CloseRead();
  }
  std::string Describe() const override { return name_; }

 private:
  std::shared_ptr<Pipe> in_;
  std::shared_ptr<Pipe> out_;
  const std::string name_;
};

}  // namespace

std::pair<std::unique_ptr<Transport>, std::unique_ptr<Transport>>
MakeInProcPair(const InProcOptions& options) {
  FT_CHECK(options.capacity_bytes > 0) << "in-process pipe of 0 bytes";
  auto ab = std::make_shared<Pipe>(options.capacity_bytes);
  auto ba = std::make_shared<Pipe>(options.capacity_bytes);
  return {std::make_unique<InProcTransport>(
              ba, ab, absl::StrCat("inproc ", options.name, "/a")),
          std::make_unique<InProcTransport>(
              ab, ba, absl::StrCat("inproc ", options.name, "/b"))};
}

struct InProcListener::State {
  explicit State(InProcOptions o) : options(std::move(o)) {}
  const InProcOptions options;
  absl::Mutex mu;
  std::deque<std::unique_ptr<Transport>> pending ABSL_GUARDED_BY(mu);
  uint64_t connections ABSL_GUARDED_BY(mu) = 0;
  bool closed ABSL_GUARDED_BY(mu) = false;
};

namespace {

class InProcConnector : public Connector {
 public:
  explicit InProcConnector(std::shared_ptr<InProcListener::State> state)
      : state_(std::move(state)) {}

  absl::StatusOr<std::unique_ptr<Transport>> Connect(absl::Time) override {
    absl::MutexLock lock(&state_->mu);
    if (state_->closed) {
      return absl::UnavailableError(
          absl::StrCat(Describe(), ": connection refused (listener closed)"));
    }
    InProcOptions o = state_->options;
    o.name = absl::StrCat(o.name, "#", state_->connections++);
    auto [client, server] = MakeInProcPair(o);
    state_->pending.push_back(std::move(server));
    return std::move(client);
  }
  std::string Describe() const override {
    return absl::StrCat("inproc connector to ", state_->options.name);
  }

 private:
  std::shared_ptr<InProcListener::State> state_;
};

}  // namespace

InProcListener::InProcListener(InProcOptions options)
    : state_(std::make_shared<State>(std::move(options))) {}

InProcListener::~InProcListener() {
  absl::MutexLock lock(&state_->mu);
  state_->closed = true;
  state_->pending.clear();
}

absl::StatusOr<std::unique_ptr<Transport>> InProcListener::Accept(
    absl::Time deadline) {
  absl::MutexLock lock(&state_->mu);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
    return !state_->pending.empty();
  };
  if (!state_->mu.AwaitWithDeadline(absl::Condition(&ready), deadline)) {
    return absl::DeadlineExceededError(
        absl::StrCat(Describe(), ": no connection before the deadline"));
  }
  std::unique_ptr<Transport> t = std::move(state_->pending.front());
  state_->pending.pop_front();
  return t;
}

std::string InProcListener::Describe() const {
  return absl::StrCat("inproc listener ", state_->options.name);
}

std::unique_ptr<Connector> InProcListener::MakeConnector() const {
  return std::make_unique<InProcConnector>(state_);
}

}  // namespace ft::logchannel
