#include "vmm/vcpu_thread.h"

#include <pthread.h>
#include <signal.h>

#include <mutex>

#include "absl/strings/str_cat.h"
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
    case VcpuState::kHalted:
      return "halted";
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
  if (state_ != VcpuState::kRunning && state_ != VcpuState::kHalted) return;
  if (request_ == Request::kExit) return;  // exiting wins over pausing
  request_ = Request::kPause;
  Kick();
  mu_.Await(absl::Condition(
      +[](VcpuState* s) {
        return *s == VcpuState::kPaused || *s == VcpuState::kExited;
      },
      &state_));
}

void VcpuThread::Resume() {
  absl::MutexLock lock(&mu_);
  if (request_ == Request::kPause) request_ = Request::kRun;
}

void VcpuThread::Wake(bool kick) {
  absl::MutexLock lock(&mu_);
  // Already woken since the loop last cleared the flag: that wake's kick (or
  // the halt's Await) is still to be acted on, and the BeforeEntry it leads
  // to comes after the clear, so it delivers this event too. A burst of
  // events costs one kick.
  if (woken_) return;
  woken_ = true;
  woken_at_ = absl::Now();
  // A halted thread sees woken_ through its Await; a running one must be
  // kicked out of KVM_RUN. The record/replay layer turns this kick into a
  // micro-checkpoint when the guest makes no exit of its own in time (see
  // Machine::BeforeEntry).
  if (kick) Kick();
}

void VcpuThread::ForceKick() {
  absl::MutexLock lock(&mu_);
  Kick();
}

bool VcpuThread::KickIfWokenBefore(absl::Time t) {
  absl::MutexLock lock(&mu_);
  if (!woken_ || woken_at_ > t) return false;
  Kick();
  return true;
}

absl::Time VcpuThread::WokenAt() const {
  absl::MutexLock lock(&mu_);
  return woken_ ? woken_at_ : absl::InfiniteFuture();
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
  // For top -H, perf and ps: which thread runs the guest.
  pthread_setname_np(pthread_self(),
                     absl::StrCat("ftvm-vcpu", vcpu_->index()).c_str());
  absl::Status status;
  Stats stats;
  // The guest is halted: it must not be entered again until woken, even if
  // a Pause or Resume comes between (that would end its HLT early, which the
  // guest could observe and a replay could not reproduce).
  bool halted = false;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      stats_ = stats;
      if (request_ == Request::kPause) {
        state_ = VcpuState::kPaused;
        mu_.Await(absl::Condition(
            +[](Request* r) { return *r != Request::kPause; }, &request_));
        if (request_ != Request::kExit) state_ = VcpuState::kRunning;
      }
      if (request_ == Request::kExit) break;
      if (halted) {
        state_ = VcpuState::kHalted;
        auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return woken_ || request_ != Request::kRun;
        };
        mu_.Await(absl::Condition(&wake));
        state_ = VcpuState::kRunning;
        if (!woken_) continue;  // pause or exit first, then halt again
        halted = false;
      }
      // From here on a Wake() is remembered for the next halt; events posted
      // before it are delivered by this BeforeEntry.
      woken_ = false;
    }
    absl::StatusOr<EntryAction> entry = handler_->BeforeEntry(*vcpu_);
    if (!entry.ok()) {
      status = entry.status();
      FT_LOG(kError) << "vCPU " << vcpu_->index() << ": " << status;
      break;
    }
    if (*entry == EntryAction::kStayHalted) {
      halted = true;
      continue;
    }
    absl::StatusOr<VmExit> exit = vcpu_->Run();
    if (!exit.ok()) {
      status = exit.status();
      FT_LOG(kError) << "vCPU " << vcpu_->index() << ": " << status;
      break;
    }
    if (std::holds_alternative<InterruptedExit>(*exit)) {
      ++stats.interrupted;
      continue;
    }
    ++stats.exits;
    const ExitAction action = handler_->HandleExit(*vcpu_, *exit);
    if (action == ExitAction::kStop) break;
    if (action == ExitAction::kWaitForWake) {
      halted = true;
      ++stats.halts;
    }
  }
  tls_vcpu = nullptr;
  absl::MutexLock lock(&mu_);
  stats_ = stats;
  exit_status_ = status;
  state_ = VcpuState::kExited;
}

}  // namespace ft::vmm
