// Signals for ftvm's commands: SIGINT/SIGTERM/SIGUSR1 are blocked in every
// thread and handled on a dedicated one, so no async-signal-unsafe work
// runs in a handler: SIGINT/SIGTERM call `stop`, SIGUSR1 calls `stats` (a
// benchmark takes the --stats lines before and after a measurement).
//
// Construct before any thread starts, so that all inherit the mask.
#ifndef FTVM_TOOLS_FTVM_CONTROL_SIGNALS_H_
#define FTVM_TOOLS_FTVM_CONTROL_SIGNALS_H_

#include <signal.h>

#include <functional>
#include <thread>

namespace ft {

class ControlSignals {
 public:
  ControlSignals();
  ~ControlSignals();
  ControlSignals(const ControlSignals&) = delete;
  ControlSignals& operator=(const ControlSignals&) = delete;

  void Watch(std::function<void()> stop, std::function<void()> stats);

 private:
  sigset_t set_;
  std::thread thread_;
};

}  // namespace ft

#endif  // FTVM_TOOLS_FTVM_CONTROL_SIGNALS_H_
