// Tests for common/status.h (propagation macros, ErrnoStatus, Annotate) and
// common/check.h (FT_CHECK, FT_CHECK_OK).
#include "common/status.h"

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/check.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ft {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// ---------------------------------------------------------------------------
// FT_RETURN_IF_ERROR

// Runs each step in order through FT_RETURN_IF_ERROR and records which ran.
absl::Status RunSteps(const std::vector<absl::Status>& steps,
                      std::vector<int>* ran) {
  int index = 0;
  auto step = [&](int i) {
    ran->push_back(i);
    return steps[i];
  };
  for (; index < static_cast<int>(steps.size()); ++index) {
    FT_RETURN_IF_ERROR(step(index));
  }
  return absl::OkStatus();
}

TEST(ReturnIfErrorTest, PassesOkThrough) {
  std::vector<int> ran;
  absl::Status s = RunSteps({absl::OkStatus(), absl::OkStatus()}, &ran);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(ran, (std::vector<int>{0, 1}));
}

TEST(ReturnIfErrorTest, ReturnsFirstErrorAndStops) {
  std::vector<int> ran;
  absl::Status s = RunSteps({absl::OkStatus(), absl::NotFoundError("first"),
                             absl::InternalError("second")},
                            &ran);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "first");
  EXPECT_EQ(ran, (std::vector<int>{0, 1}));  // step 2 never ran
}

absl::StatusOr<int> ReturnIfErrorInStatusOr(absl::Status s) {
  FT_RETURN_IF_ERROR(s);
  return 7;
}

TEST(ReturnIfErrorTest, WorksInFunctionReturningStatusOr) {
  EXPECT_EQ(ReturnIfErrorInStatusOr(absl::OkStatus()).value(), 7);
  absl::StatusOr<int> r = ReturnIfErrorInStatusOr(absl::AbortedError("x"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAborted);
}

TEST(ReturnIfErrorTest, EvaluatesExpressionOnce) {
  int calls = 0;
  auto f = [&]() -> absl::Status {
    ++calls;
    return absl::OkStatus();
  };
  auto g = [&]() -> absl::Status {
    FT_RETURN_IF_ERROR(f());
    return absl::OkStatus();
  };
  EXPECT_TRUE(g().ok());
  EXPECT_EQ(calls, 1);
}

// ---------------------------------------------------------------------------
// FT_ASSIGN_OR_RETURN

absl::StatusOr<int> MakeInt(bool ok, int v) {
  if (!ok) return absl::FailedPreconditionError("no int");
  return v;
}

absl::StatusOr<int> DeclareWithAuto(bool ok) {
  FT_ASSIGN_OR_RETURN(auto x, MakeInt(ok, 20));
  FT_ASSIGN_OR_RETURN(const int y, MakeInt(true, 1));  // second use, same scope
  return x + y;
}

TEST(AssignOrReturnTest, DeclaresWithAuto) {
  absl::StatusOr<int> r = DeclareWithAuto(true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, 21);
}

TEST(AssignOrReturnTest, PropagatesError) {
  absl::StatusOr<int> r = DeclareWithAuto(false);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "no int");
}

absl::Status AssignExisting(bool ok, int* out) {
  int existing = -1;
  FT_ASSIGN_OR_RETURN(existing, MakeInt(ok, 42));
  *out = existing;
  return absl::OkStatus();
}

TEST(AssignOrReturnTest, AssignsExistingVariable) {
  int out = 0;
  ASSERT_TRUE(AssignExisting(true, &out).ok());
  EXPECT_EQ(out, 42);
}

TEST(AssignOrReturnTest, ExistingVariableUntouchedOnError) {
  int out = 5;
  absl::Status s = AssignExisting(false, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(out, 5);
}

absl::StatusOr<std::unique_ptr<std::string>> MakeOwned(bool ok) {
  if (!ok) return absl::ResourceExhaustedError("no memory");
  return std::make_unique<std::string>("owned");
}

absl::StatusOr<std::string> UseMoveOnly(bool ok) {
  FT_ASSIGN_OR_RETURN(std::unique_ptr<std::string> p, MakeOwned(ok));
  std::unique_ptr<std::string> existing;
  FT_ASSIGN_OR_RETURN(existing, MakeOwned(ok));
  if (p == nullptr || existing == nullptr) return absl::InternalError("null");
  return *p + "+" + *existing;
}

TEST(AssignOrReturnTest, MoveOnlyTypes) {
  absl::StatusOr<std::string> r = UseMoveOnly(true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "owned+owned");
  EXPECT_EQ(UseMoveOnly(false).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(AssignOrReturnTest, EvaluatesExpressionOnce) {
  int calls = 0;
  auto make = [&]() -> absl::StatusOr<int> { return ++calls; };
  auto f = [&]() -> absl::StatusOr<int> {
    FT_ASSIGN_OR_RETURN(int v, make());
    return v;
  };
  EXPECT_EQ(f().value(), 1);
  EXPECT_EQ(calls, 1);
}

// ---------------------------------------------------------------------------
// ErrnoStatus / Annotate

TEST(ErrnoStatusTest, MapsCommonErrnos) {
  EXPECT_EQ(ErrnoStatus(EACCES, "x").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoStatus(ENOENT, "x").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrnoStatus(EINVAL, "x").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ErrnoStatusTest, MessageHasWhatAndStrerror) {
  absl::Status s = ErrnoStatus(ENOENT, "opening /nonexistent");
  const std::string expected =
      std::string("opening /nonexistent: ") + std::strerror(ENOENT);
  EXPECT_EQ(s.message(), expected);
  EXPECT_THAT(std::string(ErrnoStatus(EACCES, "open kvm").message()),
              HasSubstr(std::strerror(EACCES)));
}

TEST(ErrnoStatusTest, ZeroErrnoIsStillAnError) {
  // A caller that reaches an error path with errno == 0 must not get OK back.
  absl::Status s = ErrnoStatus(0, "short read");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), StartsWith("short read: "));
}

TEST(AnnotateTest, KeepsCodeAndPrefixes) {
  absl::Status s =
      Annotate(absl::NotFoundError("no such file"), "loading kernel");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "loading kernel: no such file");
  absl::Status twice = Annotate(s, "starting vm");
  EXPECT_EQ(twice.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(twice.message(), "starting vm: loading kernel: no such file");
}

TEST(AnnotateTest, OkStaysOk) {
  EXPECT_TRUE(Annotate(absl::OkStatus(), "context").ok());
}

// ---------------------------------------------------------------------------
// FT_CHECK / FT_CHECK_OK

TEST(CheckDeathTest, AbortsWithConditionAndMessage) {
  int x = 1;
  EXPECT_DEATH(FT_CHECK(x == 2) << "custom context " << 42,
               "status_test\\.cc:[0-9]+: FT_CHECK failed: x == 2 "
               "custom context 42");
}

TEST(CheckDeathTest, AbortsWithoutMessage) {
  EXPECT_DEATH(FT_CHECK(false), "FT_CHECK failed: false");
}

TEST(CheckTest, TrueConditionDoesNotEvaluateStream) {
  int evaluated = 0;
  auto side_effect = [&]() {
    ++evaluated;
    return "text";
  };
  FT_CHECK(evaluated == 0) << side_effect();
  EXPECT_EQ(evaluated, 0);
}

TEST(CheckTest, UsableAsSingleStatementInIfElse) {
  int branch = 0;
  if (branch == 0)
    FT_CHECK(true) << "then";
  else
    branch = 2;
  EXPECT_EQ(branch, 0);
}

TEST(CheckTest, CheckOkPassesOnOk) {
  int calls = 0;
  auto make = [&]() {
    ++calls;
    return absl::OkStatus();
  };
  FT_CHECK_OK(make());
  EXPECT_EQ(calls, 1);
}

TEST(CheckDeathTest, CheckOkAbortsWithStatusText) {
  EXPECT_DEATH(FT_CHECK_OK(absl::InternalError("disk on fire")),
               "FT_CHECK failed.*INTERNAL: disk on fire");
}

}  // namespace
}  // namespace ft
