#include "vmm/vcpu_thread.h"

#include <signal.h>

#include <mutex>

#include "common/check.h"
#include "common/log.h"

namespace ft::vmm {
namespace {

// The vCPU the current thread runs, for the kick signal handler.
thread_local Vcpu* tls_vcpu = nullptr;

int KickSignal() { return SIGRTMIN; }

void OnKick(int) {
  if (Vcpu* vcpu = tls_vcpu) vcpu->RequestImmediateExit();
}

void InstallKickHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = OnKick;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: KVM_RUN must return EINTR
    FT_CHECK(sigaction(KickSignal(), &sa, nullptr) == 0);
  });
}

}  // namespace

const char* VcpuStateName(VcpuState state) {
  switch (state) {
    case VcpuState::kCreated:
      return "created";
    case VcpuState::kRunning:
      return "running";
    case VcpuState::kPaused:
      return "paused";
    case VcpuState::kExited:
      return "exited";
  }
  return "?";
}

VcpuThread::VcpuThread(std::unique_ptr<Vcpu> vcpu, VcpuExitHandler* handler)
    : vcpu_(std::move(vcpu)), handler_(handler) {
  InstallKickHandler();
}

VcpuThread::~VcpuThread() {
  RequestExit();
  if (thread_.joinable()) thread_.join();
}

void VcpuThread::Start() {
  absl::MutexLock lock(&mu_);
  FT_CHECK(state_ == VcpuState::kCreated) << VcpuStateName(state_);
  state_ = VcpuState::kRunning;
  thread_ = std::thread([this] { Loop(); });
  native_ = thread_.native_handle();
}

void VcpuThread::Kick() {
  if (state_ == VcpuState::kRunning) pthread_kill(native_, KickSignal());
}

void VcpuThread::Pause() {
  absl::MutexLock lock(&mu_);
  if (state_ != VcpuState::kRunning) return;
  request_ = Request::kPause;
  Kick();
  mu_.Await(absl::Condition(
      +[](VcpuState* s) { return *s != VcpuState::kRunning; }, &state_));
}

void VcpuThread::Resume() {
  absl::MutexLock lock(&mu_);
  if (request_ == Request::kPause) request_ = Request::kRun;
}

void VcpuThread::RequestExit() {
  absl::MutexLock lock(&mu_);
  if (state_ == VcpuState::kCreated) {
    state_ = VcpuState::kExited;
    return;
  }
  request_ = Request::kExit;
  Kick();
}

absl::Status VcpuThread::Join() {
  if (thread_.joinable()) thread_.join();
  absl::MutexLock lock(&mu_);
  return exit_status_;
}

VcpuState VcpuThread::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

VcpuThread::Stats VcpuThread::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void VcpuThread::Loop() {
  tls_vcpu = vcpu_.get();
  absl::Status status;
  uint64_t exits = 0;
  uint64_t interrupted = 0;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      stats_ = Stats{exits, interrupted};
      if (request_ == Request::kPause) {
        state_ = VcpuState::kPaused;
        mu_.Await(absl::Condition(
            +[](Request* r) { return *r != Request::kPause; }, &request_));
        if (request_ != Request::kExit) state_ = VcpuState::kRunning;
      }
      if (request_ == Request::kExit) break;
    }
    absl::StatusOr<VmExit> exit = vcpu_->Run();
    if (!exit.ok()) {
      status = exit.status();
      FT_LOG(kError) << "vCPU " << vcpu_->index() << ": " << status;
      break;
    }
    if (std::holds_alternative<InterruptedExit>(*exit)) {
      ++interrupted;
      continue;
    }
    ++exits;
    if (handler_->HandleExit(*vcpu_, *exit) == ExitAction::kStop) break;
  }
  tls_vcpu = nullptr;
  absl::MutexLock lock(&mu_);
  stats_ = Stats{exits, interrupted};
  exit_status_ = status;
  state_ = VcpuState::kExited;
}

}  // namespace ft::vmm
