// `ftvm secondary`: waits for a primary on the FT network and replays its
// log live (secondary/ft_secondary.h).
#ifndef FTVM_TOOLS_FTVM_SECONDARY_COMMAND_H_
#define FTVM_TOOLS_FTVM_SECONDARY_COMMAND_H_

#include <string>
#include <vector>

namespace ft {

int RunSecondary(const std::vector<std::string>& args);

}  // namespace ft

#endif  // FTVM_TOOLS_FTVM_SECONDARY_COMMAND_H_
