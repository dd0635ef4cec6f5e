// Strong types for values that must not be mixed up: guest physical
// addresses, later positions and sequence numbers.
#ifndef FTVM_COMMON_STRONG_TYPES_H_
#define FTVM_COMMON_STRONG_TYPES_H_

#include <compare>
#include <cstdint>
#include <optional>
#include <ostream>

namespace ft {

// A value of type T that only compares and converts explicitly. `Tag` keeps
// two StrongInts with the same T apart.
template <typename Tag, typename T>
class StrongInt {
 public:
  using ValueType = T;
  constexpr StrongInt() = default;
  constexpr explicit StrongInt(T value) : value_(value) {}
  constexpr T value() const { return value_; }
  constexpr auto operator<=>(const StrongInt&) const = default;

 private:
  T value_{};
};

template <typename Tag, typename T>
std::ostream& operator<<(std::ostream& os, StrongInt<Tag, T> v) {
  return os << v.value();
}

// A guest physical address. Arithmetic that could wrap is checked: use
// Offset(), which reports overflow instead of wrapping.
class Gpa {
 public:
  constexpr Gpa() = default;
  constexpr explicit Gpa(uint64_t value) : value_(value) {}
  constexpr uint64_t value() const { return value_; }
  constexpr auto operator<=>(const Gpa&) const = default;

  // this + delta, or nullopt if it would pass 2^64.
  constexpr std::optional<Gpa> Offset(uint64_t delta) const {
    if (delta > UINT64_MAX - value_) return std::nullopt;
    return Gpa(value_ + delta);
  }

 private:
  uint64_t value_ = 0;
};

inline std::ostream& operator<<(std::ostream& os, Gpa gpa) {
  auto flags = os.flags();
  os << "0x" << std::hex << gpa.value();
  os.flags(flags);
  return os;
}

}  // namespace ft

#endif  // FTVM_COMMON_STRONG_TYPES_H_
