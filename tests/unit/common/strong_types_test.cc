// Tests for common/strong_types.h.
#include "common/strong_types.h"

#include <compare>
#include <concepts>
#include <cstdint>
#include <optional>
#include <sstream>
#include <type_traits>

#include "gtest/gtest.h"

namespace ft {
namespace {

struct FooTag {};
struct BarTag {};
using Foo = StrongInt<FooTag, uint64_t>;
using Bar = StrongInt<BarTag, uint64_t>;
using SignedFoo = StrongInt<FooTag, int32_t>;

// Distinct tags are distinct, mutually unconvertible types.
static_assert(!std::is_same_v<Foo, Bar>);
static_assert(!std::is_convertible_v<Foo, Bar>);
static_assert(!std::is_convertible_v<Bar, Foo>);
static_assert(!std::is_constructible_v<Foo, Bar>);
static_assert(!std::is_assignable_v<Foo&, Bar>);
static_assert(!std::equality_comparable_with<Foo, Bar>);
static_assert(!std::totally_ordered_with<Foo, Bar>);
// Conversions to and from the raw value are explicit only.
static_assert(!std::is_convertible_v<uint64_t, Foo>);
static_assert(!std::is_convertible_v<Foo, uint64_t>);
static_assert(std::is_constructible_v<Foo, uint64_t>);
static_assert(!std::equality_comparable_with<Foo, uint64_t>);
static_assert(std::is_same_v<Foo::ValueType, uint64_t>);
static_assert(std::is_trivially_copyable_v<Foo>);
// Gpa is not a plain integer nor a StrongInt.
static_assert(!std::is_convertible_v<uint64_t, Gpa>);
static_assert(!std::is_convertible_v<Gpa, uint64_t>);
static_assert(!std::is_convertible_v<Foo, Gpa>);
static_assert(!std::equality_comparable_with<Gpa, uint64_t>);
static_assert(std::is_trivially_copyable_v<Gpa>);
static_assert(sizeof(Gpa) == sizeof(uint64_t));

// Everything is usable in constant expressions.
static_assert(Foo(3) < Foo(4));
static_assert(Gpa(5).Offset(1) == Gpa(6));
static_assert(!Gpa(UINT64_MAX).Offset(1).has_value());

TEST(StrongIntTest, DefaultIsZero) {
  EXPECT_EQ(Foo().value(), 0u);
  EXPECT_EQ(SignedFoo().value(), 0);
}

TEST(StrongIntTest, Compares) {
  EXPECT_EQ(Foo(7), Foo(7));
  EXPECT_NE(Foo(7), Foo(8));
  EXPECT_LT(Foo(7), Foo(8));
  EXPECT_LE(Foo(8), Foo(8));
  EXPECT_GT(Foo(9), Foo(8));
  EXPECT_GE(Foo(9), Foo(9));
  EXPECT_EQ(Foo(1) <=> Foo(2), std::strong_ordering::less);
  EXPECT_LT(SignedFoo(-1), SignedFoo(0));  // ordering follows the signed T
  EXPECT_EQ(Foo(UINT64_MAX).value(), UINT64_MAX);
}

TEST(StrongIntTest, StreamsTheValue) {
  std::ostringstream os;
  os << Foo(1234) << " " << SignedFoo(-5);
  EXPECT_EQ(os.str(), "1234 -5");
}

TEST(GpaTest, ValueAndDefault) {
  EXPECT_EQ(Gpa().value(), 0u);
  EXPECT_EQ(Gpa(0xFEE0'0000).value(), 0xFEE0'0000u);
}

TEST(GpaTest, Compares) {
  EXPECT_EQ(Gpa(0x1000), Gpa(0x1000));
  EXPECT_NE(Gpa(0x1000), Gpa(0x1001));
  EXPECT_LT(Gpa(0), Gpa(1));
  EXPECT_LT(Gpa(0x1000), Gpa(UINT64_MAX));
  EXPECT_GT(Gpa(UINT64_MAX), Gpa(UINT64_MAX - 1));
  EXPECT_GE(Gpa(2), Gpa(2));
  EXPECT_EQ(Gpa(3) <=> Gpa(2), std::strong_ordering::greater);
}

TEST(GpaTest, OffsetAddsWithoutOverflow) {
  std::optional<Gpa> g = Gpa(0x1000).Offset(0x234);
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(*g, Gpa(0x1234));
  EXPECT_EQ(Gpa(0x1000).Offset(0), Gpa(0x1000));
  EXPECT_EQ(Gpa(0).Offset(UINT64_MAX), Gpa(UINT64_MAX));
}

TEST(GpaTest, OffsetReachesExactlyTheTopOfTheAddressSpace) {
  EXPECT_EQ(Gpa(UINT64_MAX - 1).Offset(1), Gpa(UINT64_MAX));
  EXPECT_EQ(Gpa(UINT64_MAX).Offset(0), Gpa(UINT64_MAX));
}

TEST(GpaTest, OffsetReportsOverflowInsteadOfWrapping) {
  EXPECT_EQ(Gpa(UINT64_MAX).Offset(1), std::nullopt);
  EXPECT_EQ(Gpa(UINT64_MAX - 1).Offset(2), std::nullopt);
  EXPECT_EQ(Gpa(1).Offset(UINT64_MAX), std::nullopt);
  EXPECT_EQ(Gpa(UINT64_MAX).Offset(UINT64_MAX), std::nullopt);
  EXPECT_EQ(Gpa(0x8000'0000'0000'0000).Offset(0x8000'0000'0000'0000),
            std::nullopt);
}

TEST(GpaTest, StreamsAsHex) {
  std::ostringstream os;
  os << Gpa(0xC000'0000);
  EXPECT_EQ(os.str(), "0xc0000000");
  std::ostringstream zero;
  zero << Gpa(0);
  EXPECT_EQ(zero.str(), "0x0");
  std::ostringstream top;
  top << Gpa(UINT64_MAX);
  EXPECT_EQ(top.str(), "0xffffffffffffffff");
}

TEST(GpaTest, StreamingRestoresFormatFlags) {
  std::ostringstream os;
  os << Gpa(0x10) << " " << 255 << " " << std::hex << Gpa(0x20) << " " << 255;
  // Decimal after the first Gpa; the caller's std::hex survives the second.
  EXPECT_EQ(os.str(), "0x10 255 0x20 ff");
}

}  // namespace
}  // namespace ft
