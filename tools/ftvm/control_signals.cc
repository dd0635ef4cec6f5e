#include "tools/ftvm/control_signals.h"

#include <pthread.h>

#include "common/log.h"

namespace ft {

ControlSignals::ControlSignals() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGUSR1);
  sigaddset(&set_, SIGUSR2);  // wakes the watcher at exit
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

void ControlSignals::Watch(std::function<void()> stop,
                           std::function<void()> stats) {
  thread_ =
      std::thread([this, stop = std::move(stop), stats = std::move(stats)] {
        while (true) {
          int sig = 0;
          sigwait(&set_, &sig);
          if (sig == SIGUSR2) return;  // our own wake-up at exit
          if (sig == SIGUSR1) {
            stats();
            continue;
          }
          FT_LOG(kWarning) << "signal " << sig << ": stopping";
          stop();
        }
      });
}

ControlSignals::~ControlSignals() {
  if (thread_.joinable()) {
    pthread_kill(thread_.native_handle(), SIGUSR2);
    thread_.join();
  }
}

}  // namespace ft
