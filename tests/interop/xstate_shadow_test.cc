// The XSAVE shim's logic (interop/uml-xstate/xstate_shadow.c) against a fake ptrace that behaves
// like the host kernel on a large-XSAVE CPU: a GET into a short buffer is truncated (iov_len
// reports the copied size), a SET of anything but the whole size fails with EFAULT.
#include "xstate_shadow.h"

#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace {

constexpr size_t kHostSize = 11008;  // x87/SSE + AVX + AVX-512 + AMX tiles, as on Intel AMX hosts
constexpr size_t kUmlSize = 832;     // UML's legacy area + XSAVE header + AVX

// One host: tasks by pid, each with a whole XSAVE area.
struct FakeHost {
  size_t size = kHostSize;
  std::map<pid_t, std::vector<uint8_t>> tasks;
  int gets = 0, sets = 0, others = 0;
  int fail_next_errno = 0;

  std::vector<uint8_t>& Task(pid_t pid) {
    auto [it, fresh] = tasks.try_emplace(pid, size);
    if (fresh) {
      for (size_t i = 0; i < size; ++i) it->second[i] = static_cast<uint8_t>(pid * 7 + i);
    }
    return it->second;
  }

  long Ptrace(int request, pid_t pid, void* addr, void* data) {
    if (fail_next_errno != 0) {
      errno = std::exchange(fail_next_errno, 0);
      return -1;
    }
    if ((request != PTRACE_GETREGSET && request != PTRACE_SETREGSET) ||
        reinterpret_cast<uintptr_t>(addr) != NT_X86_XSTATE) {
      ++others;
      return 0;
    }
    auto* iov = static_cast<iovec*>(data);
    auto& state = Task(pid);
    if (request == PTRACE_GETREGSET) {
      ++gets;
      iov->iov_len = std::min(iov->iov_len, size);
      std::memcpy(iov->iov_base, state.data(), iov->iov_len);
      return 0;
    }
    ++sets;
    if (iov->iov_len != size) {
      errno = EFAULT;
      return -1;
    }
    std::memcpy(state.data(), iov->iov_base, size);
    return 0;
  }
};

long CallFake(void* ctx, int request, pid_t pid, void* addr, void* data) {
  return static_cast<FakeHost*>(ctx)->Ptrace(request, pid, addr, data);
}

// Zeroed blocks that live as long as the test (the shim never frees).
std::deque<std::vector<uint8_t>>* blocks = nullptr;
void* Alloc(void*, size_t size) { return blocks->emplace_back(size).data(); }

class XstateShadowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    blocks = &blocks_;
    xs_init(&st_, CallFake, Alloc, &host_, 64 * 1024);
  }

  long Get(pid_t pid, std::vector<uint8_t>& buffer, size_t len) {
    iovec iov{buffer.data(), len};
    long r = xs_ptrace(&st_, PTRACE_GETREGSET, pid, reinterpret_cast<void*>(NT_X86_XSTATE), &iov);
    last_len_ = iov.iov_len;
    return r;
  }
  long Set(pid_t pid, std::vector<uint8_t>& buffer, size_t len) {
    iovec iov{buffer.data(), len};
    return xs_ptrace(&st_, PTRACE_SETREGSET, pid, reinterpret_cast<void*>(NT_X86_XSTATE), &iov);
  }

  std::deque<std::vector<uint8_t>> blocks_;
  FakeHost host_;
  xs_state st_{};
  size_t last_len_ = 0;
};

TEST_F(XstateShadowTest, TheFakeRefusesAShortSetLikeTheHost) {
  // The failure the shim exists for: without it, UML's SET of its own size fails with EFAULT.
  std::vector<uint8_t> buffer(kUmlSize);
  iovec iov{buffer.data(), kUmlSize};
  EXPECT_EQ(host_.Ptrace(PTRACE_SETREGSET, 1, reinterpret_cast<void*>(NT_X86_XSTATE), &iov), -1);
  EXPECT_EQ(errno, EFAULT);
}

TEST_F(XstateShadowTest, ShortGetHandsUmlThePrefixAndReportsItsLength) {
  std::vector<uint8_t> buffer(kUmlSize, 0xee);
  ASSERT_EQ(Get(10, buffer, kUmlSize), 0);
  EXPECT_EQ(last_len_, kUmlSize);
  EXPECT_EQ(st_.host_size, kHostSize);  // learned from a GET into a large buffer
  EXPECT_TRUE(std::equal(buffer.begin(), buffer.end(), host_.Task(10).begin()));
  EXPECT_EQ(st_.shadowed_gets, 1u);
}

TEST_F(XstateShadowTest, SetOfAPrefixKeepsTheRestOfTheWholeState) {
  std::vector<uint8_t> buffer(kUmlSize);
  ASSERT_EQ(Get(10, buffer, kUmlSize), 0);
  const std::vector<uint8_t> before = host_.Task(10);
  // UML changes its prefix (e.g. the thread's SSE registers), then restores it.
  for (auto& b : buffer) b ^= 0x5a;
  ASSERT_EQ(Set(10, buffer, kUmlSize), 0) << std::strerror(errno);
  const auto& after = host_.Task(10);
  EXPECT_TRUE(std::equal(buffer.begin(), buffer.end(), after.begin()));
  EXPECT_TRUE(std::equal(before.begin() + kUmlSize, before.end(), after.begin() + kUmlSize));
  EXPECT_EQ(st_.shadowed_sets, 1u);
  EXPECT_EQ(st_.first_sets, 0u);
}

TEST_F(XstateShadowTest, ThreadsSharingOneHostProcessKeepTheirOwnWideState) {
  // UML runs two guest threads of one process in one host process (pid 20) and switches between
  // them by saving into one buffer per thread and restoring the other's.
  std::vector<uint8_t> thread_a(kUmlSize), thread_b(kUmlSize);
  auto& host = host_.Task(20);
  std::fill(host.begin(), host.end(), 0xaa);  // thread a runs, its wide registers hold 0xaa
  ASSERT_EQ(Get(20, thread_a, kUmlSize), 0);
  ASSERT_EQ(Set(20, thread_b, kUmlSize), 0);  // b's first run: its prefix on a's current state
  std::fill(host.begin(), host.end(), 0xbb);  // thread b runs, writes 0xbb everywhere
  ASSERT_EQ(Get(20, thread_b, kUmlSize), 0);
  ASSERT_EQ(Set(20, thread_a, kUmlSize), 0);  // back to a
  EXPECT_EQ(host_.Task(20)[kHostSize - 1], 0xaa) << "a's AMX/AVX-512 state must come back";
  EXPECT_EQ(host_.Task(20)[0], 0xaa);
  ASSERT_EQ(Get(20, thread_a, kUmlSize), 0);
  ASSERT_EQ(Set(20, thread_b, kUmlSize), 0);
  EXPECT_EQ(host_.Task(20)[kHostSize - 1], 0xbb) << "and b's when b runs again";
}

TEST_F(XstateShadowTest, FirstSetOfANewBufferStartsFromTheTargetsCurrentState) {
  std::vector<uint8_t> fresh(kUmlSize, 0x11);
  const std::vector<uint8_t> before = host_.Task(30);
  ASSERT_EQ(Set(30, fresh, kUmlSize), 0) << std::strerror(errno);
  const auto& after = host_.Task(30);
  EXPECT_TRUE(std::all_of(after.begin(), after.begin() + kUmlSize, [](uint8_t b) { return b == 0x11; }));
  EXPECT_TRUE(std::equal(before.begin() + kUmlSize, before.end(), after.begin() + kUmlSize));
  EXPECT_EQ(st_.first_sets, 1u);
}

TEST_F(XstateShadowTest, ManyTasksEachKeepTheirShadow) {
  constexpr int kTasks = 700;  // grows the table several times
  std::vector<std::vector<uint8_t>> buffers(kTasks, std::vector<uint8_t>(kUmlSize));
  for (int i = 0; i < kTasks; ++i) {
    auto& t = host_.Task(1000 + i);
    std::fill(t.begin() + kUmlSize, t.end(), static_cast<uint8_t>(i));
    ASSERT_EQ(Get(1000 + i, buffers[i], kUmlSize), 0);
  }
  // Every task's host state is clobbered; restoring each buffer brings its own wide part back.
  for (int i = 0; i < kTasks; ++i) {
    auto& t = host_.Task(1000 + i);
    std::fill(t.begin(), t.end(), 0);
  }
  for (int i = kTasks - 1; i >= 0; --i) {
    ASSERT_EQ(Set(1000 + i, buffers[i], kUmlSize), 0);
    ASSERT_EQ(host_.Task(1000 + i)[kHostSize - 1], static_cast<uint8_t>(i)) << "task " << i;
  }
  EXPECT_EQ(st_.count, static_cast<size_t>(kTasks));
  EXPECT_EQ(st_.first_sets, 0u);
}

TEST_F(XstateShadowTest, WholeSizeBuffersAndOtherRequestsPassThrough) {
  host_.size = kUmlSize;  // a host whose XSAVE area fits UML's buffer: the shim does nothing
  std::vector<uint8_t> buffer(kUmlSize);
  ASSERT_EQ(Get(40, buffer, kUmlSize), 0);
  ASSERT_EQ(Set(40, buffer, kUmlSize), 0);
  EXPECT_EQ(st_.shadowed_gets + st_.shadowed_sets, 0u);
  EXPECT_EQ(st_.passed, 2u);
  EXPECT_EQ(st_.count, 0u);
  long word = 0;
  EXPECT_EQ(xs_ptrace(&st_, PTRACE_PEEKUSER, 40, nullptr, &word), 0);
  iovec gp{buffer.data(), 27 * 8};
  EXPECT_EQ(xs_ptrace(&st_, PTRACE_GETREGSET, 40, reinterpret_cast<void*>(NT_PRSTATUS), &gp), 0);
  EXPECT_EQ(host_.others, 2);
}

TEST_F(XstateShadowTest, HostErrorsReachTheCallerUnchanged) {
  std::vector<uint8_t> buffer(kUmlSize);
  host_.fail_next_errno = ESRCH;  // the size probe itself fails
  EXPECT_EQ(Get(50, buffer, kUmlSize), -1);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_EQ(st_.host_size, 0u);
  ASSERT_EQ(Get(50, buffer, kUmlSize), 0);
  host_.fail_next_errno = ESRCH;  // the shadowed GET fails
  EXPECT_EQ(Get(50, buffer, kUmlSize), -1);
  EXPECT_EQ(errno, ESRCH);
  host_.fail_next_errno = EIO;  // the whole-size SET fails
  EXPECT_EQ(Set(50, buffer, kUmlSize), -1);
  EXPECT_EQ(errno, EIO);
}

TEST_F(XstateShadowTest, ClampModeShadowsOnAHostThatFitsAndBrokenModeDropsTheRest) {
  // The lab's own proof on a host without the problem: clamp=832 takes the shadow path.
  st_.test_mode = XS_TEST_CLAMP;
  st_.clamp = kUmlSize;
  std::vector<uint8_t> buffer(kHostSize);
  ASSERT_EQ(Get(60, buffer, kHostSize), 0);
  EXPECT_EQ(last_len_, kUmlSize);
  const std::vector<uint8_t> before = host_.Task(60);
  ASSERT_EQ(Set(60, buffer, kHostSize), 0);
  EXPECT_EQ(host_.Task(60), before);
  EXPECT_EQ(st_.shadowed_sets, 1u);
  st_.test_mode = XS_TEST_CLAMP_BROKEN;  // the negative control: one component is lost
  st_.forget_offset = 1152;                // ZMM_Hi256 on Intel
  st_.forget_len = 512;
  ASSERT_EQ(Set(60, buffer, kHostSize), 0);
  const auto& after = host_.Task(60);
  EXPECT_TRUE(std::all_of(after.begin() + 1152, after.begin() + 1664, [](uint8_t b) { return b == 0; }));
  EXPECT_TRUE(std::equal(before.begin(), before.begin() + 1152, after.begin()));
  EXPECT_TRUE(std::equal(before.begin() + 1664, before.end(), after.begin() + 1664));
  // Only what is sent is damaged; the shadow still holds the whole state.
  st_.test_mode = XS_TEST_CLAMP;
  ASSERT_EQ(Set(60, buffer, kHostSize), 0);
  EXPECT_EQ(host_.Task(60), before);
}

}  // namespace
