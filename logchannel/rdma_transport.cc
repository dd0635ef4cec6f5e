#include "logchannel/rdma_transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <infiniband/verbs.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/check.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "logchannel/rdma_wire.h"

namespace ft::logchannel {
namespace {

// Waits are sliced so that a completion event taken by the other thread, or
// a bootstrap connection that ends, is noticed within this time.
constexpr absl::Duration kWaitSlice = absl::Milliseconds(10);
// After the bootstrap connection ends, how long a FIN may still be on its
// way through the completion queue before the peer counts as crashed.
constexpr absl::Duration kFinGrace = absl::Milliseconds(200);
constexpr absl::Duration kFinTimeout = absl::Seconds(1);
constexpr uint8_t kReadyByte = 'R';

template <auto Fn>
struct VerbsDeleter {
  template <typename T>
  void operator()(T* p) const {
    if (p != nullptr) (void)Fn(p);
  }
};
using Context = std::unique_ptr<ibv_context, VerbsDeleter<ibv_close_device>>;
using Pd = std::unique_ptr<ibv_pd, VerbsDeleter<ibv_dealloc_pd>>;
using CompChannel =
    std::unique_ptr<ibv_comp_channel, VerbsDeleter<ibv_destroy_comp_channel>>;
using Cq = std::unique_ptr<ibv_cq, VerbsDeleter<ibv_destroy_cq>>;
using Mr = std::unique_ptr<ibv_mr, VerbsDeleter<ibv_dereg_mr>>;
using Qp = std::unique_ptr<ibv_qp, VerbsDeleter<ibv_destroy_qp>>;
using DeviceList =
    std::unique_ptr<ibv_device*, VerbsDeleter<ibv_free_device_list>>;

absl::Status VerbsError(int err, std::string_view what) {
  return ErrnoStatus(
      err,
      absl::StrCat("libibverbs ", absl::string_view(what.data(), what.size())));
}

absl::Status NoDevice() {
  return absl::NotFoundError(
      "no RDMA device on this host (ibv_get_device_list found none): use the "
      "TCP transport, or load the device's driver");
}

class RdmaTransport : public Transport {
 public:
  static absl::StatusOr<std::unique_ptr<RdmaTransport>> Create(
      std::unique_ptr<TcpTransport> bootstrap, const RdmaOptions& options,
      absl::Time deadline);
  ~RdmaTransport() override;

  absl::Status Write(std::span<const uint8_t> bytes) override;
  absl::StatusOr<size_t> Read(std::span<uint8_t> buf,
                              absl::Time deadline) override;
  void ShutdownWrite() override;
  void Shutdown() override;
  std::string Describe() const override { return description_; }

 private:
  struct Received {
    uint32_t slot;
    uint32_t length;
    uint32_t offset;
  };

  explicit RdmaTransport(std::unique_ptr<TcpTransport> bootstrap)
      : bootstrap_(std::move(bootstrap)) {}
  absl::Status SetUp(const RdmaOptions& options, absl::Time deadline);
  absl::Status Connect(const RdmaOptions& options, const ibv_port_attr& port,
                       const RdmaConnInfo& local, const RdmaConnInfo& peer);

  // Takes what the completion queues and the bootstrap connection have;
  // true if anything changed.
  bool Progress() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sleeps until a completion, the deadline or a slice passes (releases
  // mu_ meanwhile).
  void Wait(absl::Time deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status PostRecv(uint32_t slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status PostSend(uint32_t slot, uint32_t length, bool fin)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A receive buffer is free again: repost it and count the credit.
  void Recycle(uint32_t slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeReturnCredits() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetError(absl::Status s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (error_.ok()) error_ = std::move(s);
  }
  // Why reading or writing cannot go on, or OK.
  absl::Status Ended() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::unique_ptr<TcpTransport> bootstrap_;
  std::string description_;
  UniqueFd wake_;
  // Declared in creation order: destroyed in reverse, QP first.
  Context ctx_;
  Pd pd_;
  CompChannel channel_;
  Cq send_cq_;
  Cq recv_cq_;
  std::vector<uint8_t> recv_mem_;
  std::vector<uint8_t> send_mem_;
  Mr recv_mr_;
  Mr send_mr_;
  Qp qp_;
  uint32_t depth_ = 0;
  uint32_t buffer_bytes_ = 0;
  uint32_t chunk_bytes_ = 0;  // min(ours, the peer's buffer size)

  std::atomic<bool> shut_{false};
  mutable absl::Mutex mu_;
  std::optional<CreditWindow> window_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> free_send_ ABSL_GUARDED_BY(mu_);
  std::deque<Received> received_ ABSL_GUARDED_BY(mu_);
  bool fin_sent_ ABSL_GUARDED_BY(mu_) = false;
  bool peer_fin_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<absl::Time> bootstrap_ended_ ABSL_GUARDED_BY(mu_);
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::unique_ptr<RdmaTransport>> RdmaTransport::Create(
    std::unique_ptr<TcpTransport> bootstrap, const RdmaOptions& options,
    absl::Time deadline) {
  std::unique_ptr<RdmaTransport> t(new RdmaTransport(std::move(bootstrap)));
  FT_RETURN_IF_ERROR(t->SetUp(options, deadline));
  return t;
}

absl::Status RdmaTransport::SetUp(const RdmaOptions& o, absl::Time deadline) {
  if (o.depth < kMinRdmaDepth || o.depth > kMaxRdmaDepth ||
      o.buffer_bytes < kMinRdmaBufferBytes ||
      o.buffer_bytes > kMaxRdmaBufferBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RDMA depth ", o.depth, " and buffer size ", o.buffer_bytes,
        " must be within ", kMinRdmaDepth, "..", kMaxRdmaDepth, " and ",
        kMinRdmaBufferBytes, "..", kMaxRdmaBufferBytes));
  }
  depth_ = o.depth;
  buffer_bytes_ = o.buffer_bytes;
  wake_.Reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_) return ErrnoStatus(errno, "eventfd");

  int count = 0;
  DeviceList list(ibv_get_device_list(&count));
  if (list == nullptr || count == 0) return NoDevice();
  ibv_device* device = nullptr;
  for (int i = 0; i < count; ++i) {
    if (o.device.empty() || o.device == ibv_get_device_name(list.get()[i])) {
      device = list.get()[i];
      break;
    }
  }
  if (device == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("RDMA device '", o.device, "' is not on this host"));
  }
  const std::string device_name = ibv_get_device_name(device);
  ctx_.reset(ibv_open_device(device));
  if (ctx_ == nullptr) return VerbsError(errno, "opening " + device_name);
  ibv_port_attr port{};
  if (const int rc = ibv_query_port(ctx_.get(), o.port, &port); rc != 0) {
    return VerbsError(rc, absl::StrCat("querying port ", o.port));
  }
  if (port.state != IBV_PORT_ACTIVE) {
    return absl::FailedPreconditionError(absl::StrCat(
        "RDMA device ", device_name, " port ", o.port, " is not active (state ",
        ibv_port_state_str(port.state), ")"));
  }
  pd_.reset(ibv_alloc_pd(ctx_.get()));
  if (pd_ == nullptr) return VerbsError(errno, "ibv_alloc_pd");
  channel_.reset(ibv_create_comp_channel(ctx_.get()));
  if (channel_ == nullptr) return VerbsError(errno, "ibv_create_comp_channel");
  // Non-blocking: two threads may wait on it, and only one gets an event.
  const int flags = ::fcntl(channel_->fd, F_GETFL);
  if (flags < 0 || ::fcntl(channel_->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return ErrnoStatus(errno, "fcntl(completion channel)");
  }
  const int cqe = static_cast<int>(depth_) + 1;
  send_cq_.reset(ibv_create_cq(ctx_.get(), cqe, nullptr, channel_.get(), 0));
  recv_cq_.reset(ibv_create_cq(ctx_.get(), cqe, nullptr, channel_.get(), 0));
  if (send_cq_ == nullptr || recv_cq_ == nullptr) {
    return VerbsError(errno, "ibv_create_cq");
  }
  const size_t slab = size_t{depth_} * buffer_bytes_;
  recv_mem_.resize(slab);
  send_mem_.resize(slab);
  // As an int: ibv_reg_mr's macro would otherwise mix two enum types.
  const int recv_access = IBV_ACCESS_LOCAL_WRITE;
  recv_mr_.reset(ibv_reg_mr(pd_.get(), recv_mem_.data(), slab, recv_access));
  send_mr_.reset(ibv_reg_mr(pd_.get(), send_mem_.data(), slab, 0));
  if (recv_mr_ == nullptr || send_mr_ == nullptr) {
    return VerbsError(errno,
                      "ibv_reg_mr (is the locked-memory limit high "
                      "enough? see ulimit -l)");
  }
  ibv_qp_init_attr init{};
  init.send_cq = send_cq_.get();
  init.recv_cq = recv_cq_.get();
  init.qp_type = IBV_QPT_RC;
  init.cap.max_send_wr = depth_ + 1;
  init.cap.max_recv_wr = depth_;
  init.cap.max_send_sge = 1;
  init.cap.max_recv_sge = 1;
  qp_.reset(ibv_create_qp(pd_.get(), &init));
  if (qp_ == nullptr) return VerbsError(errno, "ibv_create_qp(RC)");

  ibv_qp_attr attr{};
  attr.qp_state = IBV_QPS_INIT;
  attr.pkey_index = 0;
  attr.port_num = o.port;
  attr.qp_access_flags = 0;  // SEND/RECV only: no remote access
  if (const int rc = ibv_modify_qp(
          qp_.get(), &attr,
          IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
      rc != 0) {
    return VerbsError(rc, "moving the QP to INIT");
  }
  {
    // Receives are posted before the peer learns our QP number, so that
    // nothing it sends can find the queue empty.
    absl::MutexLock lock(&mu_);
    for (uint32_t i = 0; i < depth_; ++i) FT_RETURN_IF_ERROR(PostRecv(i));
  }

  RdmaConnInfo local{.mtu = static_cast<uint8_t>(port.active_mtu),
                     .qp_num = qp_->qp_num,
                     .lid = port.lid,
                     .depth = depth_,
                     .buffer_bytes = buffer_bytes_};
  uint8_t psn[3];
  if (::getentropy(psn, sizeof(psn)) != 0)
    return ErrnoStatus(errno, "getentropy");
  local.psn = uint32_t{psn[0]} | uint32_t{psn[1]} << 8 | uint32_t{psn[2]} << 16;
  ibv_gid gid{};
  if (const int rc = ibv_query_gid(ctx_.get(), o.port, o.gid_index, &gid);
      rc != 0) {
    return VerbsError(rc, absl::StrCat("reading GID ", o.gid_index));
  }
  std::memcpy(local.gid.data(), gid.raw, sizeof(gid.raw));

  FT_RETURN_IF_ERROR(bootstrap_->Write(EncodeRdmaConnInfo(local)));
  std::vector<uint8_t> peer_bytes(kRdmaInfoBytes);
  FT_RETURN_IF_ERROR(Annotate(ReadExact(*bootstrap_, peer_bytes, deadline),
                              "reading the peer's RDMA connection details"));
  FT_ASSIGN_OR_RETURN(const RdmaConnInfo peer, DecodeRdmaConnInfo(peer_bytes));
  FT_RETURN_IF_ERROR(Connect(o, port, local, peer));

  // Neither side sends before both are ready to receive.
  const uint8_t ready = kReadyByte;
  FT_RETURN_IF_ERROR(bootstrap_->Write({&ready, 1}));
  uint8_t peer_ready = 0;
  FT_RETURN_IF_ERROR(
      Annotate(ReadExact(*bootstrap_, {&peer_ready, 1}, deadline),
               "waiting for the RDMA peer to be ready"));
  if (peer_ready != kReadyByte) {
    return absl::DataLossError("RDMA bootstrap: bad ready byte from the peer");
  }

  chunk_bytes_ = std::min(buffer_bytes_, peer.buffer_bytes);
  absl::MutexLock lock(&mu_);
  window_.emplace(depth_, peer.depth);
  for (uint32_t i = 0; i < depth_; ++i) free_send_.push_back(i);
  description_ = absl::StrCat("rdma ", device_name, ":", o.port, " qp ",
                              local.qp_num, " -> qp ", peer.qp_num, " (via ",
                              bootstrap_->Describe(), ")");
  return absl::OkStatus();
}

absl::Status RdmaTransport::Connect(const RdmaOptions& o,
                                    const ibv_port_attr& port,
                                    const RdmaConnInfo& local,
                                    const RdmaConnInfo& peer) {
  ibv_qp_attr attr{};
  attr.qp_state = IBV_QPS_RTR;
  attr.path_mtu = static_cast<ibv_mtu>(
      std::min<int>(port.active_mtu, static_cast<int>(peer.mtu)));
  attr.dest_qp_num = peer.qp_num;
  attr.rq_psn = peer.psn;
  attr.max_dest_rd_atomic = 1;
  attr.min_rnr_timer = 12;  // 0.64 ms
  attr.ah_attr.dlid = peer.lid;
  attr.ah_attr.port_num = o.port;
  const bool has_gid = std::any_of(peer.gid.begin(), peer.gid.end(),
                                   [](uint8_t b) { return b != 0; });
  // RoCE has no LIDs: the GID routes. InfiniBand uses it if given.
  if (has_gid) {
    attr.ah_attr.is_global = 1;
    std::memcpy(attr.ah_attr.grh.dgid.raw, peer.gid.data(), peer.gid.size());
    attr.ah_attr.grh.sgid_index = static_cast<uint8_t>(o.gid_index);
    attr.ah_attr.grh.hop_limit = 64;
  }
  if (const int rc = ibv_modify_qp(
          qp_.get(), &attr,
          IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
              IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER);
      rc != 0) {
    return VerbsError(rc,
                      "moving the QP to RTR (can the ports reach each other?)");
  }
  attr = {};
  attr.qp_state = IBV_QPS_RTS;
  attr.sq_psn = local.psn;
  attr.timeout = 14;  // 4.096 us * 2^14: about 67 ms per retry
  attr.retry_cnt = 7;
  attr.rnr_retry = 7;  // the peer reposts buffers as it reads: wait for it
  attr.max_rd_atomic = 1;
  if (const int rc = ibv_modify_qp(qp_.get(), &attr,
                                   IBV_QP_STATE | IBV_QP_TIMEOUT |
                                       IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
                                       IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
      rc != 0) {
    return VerbsError(rc, "moving the QP to RTS");
  }
  return absl::OkStatus();
}

RdmaTransport::~RdmaTransport() {
  Shutdown();
  // Flushes outstanding work requests before the QP goes.
  if (qp_ != nullptr) {
    ibv_qp_attr attr{};
    attr.qp_state = IBV_QPS_ERR;
    (void)ibv_modify_qp(qp_.get(), &attr, IBV_QP_STATE);
  }
}

absl::Status RdmaTransport::PostRecv(uint32_t slot) {
  ibv_sge sge{};
  sge.addr = reinterpret_cast<uintptr_t>(recv_mem_.data() +
                                         size_t{slot} * buffer_bytes_);
  sge.length = buffer_bytes_;
  sge.lkey = recv_mr_->lkey;
  ibv_recv_wr wr{};
  wr.wr_id = slot;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  ibv_recv_wr* bad = nullptr;
  if (const int rc = ibv_post_recv(qp_.get(), &wr, &bad); rc != 0) {
    return VerbsError(rc, "ibv_post_recv");
  }
  return absl::OkStatus();
}

absl::Status RdmaTransport::PostSend(uint32_t slot, uint32_t length, bool fin) {
  ibv_sge sge{};
  sge.addr = reinterpret_cast<uintptr_t>(send_mem_.data() +
                                         size_t{slot} * buffer_bytes_);
  sge.length = length;
  sge.lkey = send_mr_->lkey;
  ibv_send_wr wr{};
  wr.wr_id = slot;
  wr.opcode = IBV_WR_SEND_WITH_IMM;
  wr.send_flags = IBV_SEND_SIGNALED;
  wr.imm_data =
      htonl(EncodeRdmaImm({.credits = window_->TakeForSend(), .fin = fin}));
  wr.sg_list = length > 0 ? &sge : nullptr;
  wr.num_sge = length > 0 ? 1 : 0;
  ibv_send_wr* bad = nullptr;
  if (const int rc = ibv_post_send(qp_.get(), &wr, &bad); rc != 0) {
    return VerbsError(rc, "ibv_post_send");
  }
  return absl::OkStatus();
}

void RdmaTransport::Recycle(uint32_t slot) {
  absl::Status s = PostRecv(slot);
  if (s.ok()) s = window_->OnReposted();
  if (!s.ok()) SetError(std::move(s));
}

void RdmaTransport::MaybeReturnCredits() {
  if (!error_.ok() || !window_->ShouldReturnCredits() || free_send_.empty()) {
    return;
  }
  const uint32_t slot = free_send_.back();
  free_send_.pop_back();
  if (absl::Status s = PostSend(slot, 0, false); !s.ok()) SetError(s);
}

bool RdmaTransport::Progress() {
  bool changed = false;
  ibv_wc wc[16];
  int n;
  while ((n = ibv_poll_cq(send_cq_.get(), 16, wc)) > 0) {
    changed = true;
    for (int i = 0; i < n; ++i) {
      free_send_.push_back(static_cast<uint32_t>(wc[i].wr_id));
      if (wc[i].status != IBV_WC_SUCCESS && !shut_.load()) {
        SetError(absl::UnavailableError(
            absl::StrCat(description_, ": RDMA send failed (",
                         ibv_wc_status_str(wc[i].status), ")")));
      }
    }
  }
  while ((n = ibv_poll_cq(recv_cq_.get(), 16, wc)) > 0) {
    changed = true;
    for (int i = 0; i < n; ++i) {
      const auto slot = static_cast<uint32_t>(wc[i].wr_id);
      if (wc[i].status != IBV_WC_SUCCESS) {
        if (!shut_.load()) {
          SetError(absl::UnavailableError(
              absl::StrCat(description_, ": RDMA receive failed (",
                           ibv_wc_status_str(wc[i].status), ")")));
        }
        continue;
      }
      if ((wc[i].wc_flags & IBV_WC_WITH_IMM) == 0) {
        SetError(absl::DataLossError(absl::StrCat(
            description_, ": RDMA message without immediate data")));
        continue;
      }
      absl::StatusOr<RdmaImm> imm = DecodeRdmaImm(ntohl(wc[i].imm_data));
      absl::Status s =
          imm.ok() ? window_->OnCreditsReturned(imm->credits) : imm.status();
      if (s.ok() && peer_fin_) {
        s = absl::DataLossError("the RDMA peer sent after ending its stream");
      }
      if (!s.ok()) {
        SetError(Annotate(s, description_));
        continue;
      }
      if (imm->fin) peer_fin_ = true;
      if (wc[i].byte_len > 0) {
        received_.push_back({slot, wc[i].byte_len, 0});
      } else {
        Recycle(slot);
      }
    }
  }
  MaybeReturnCredits();

  // The bootstrap connection carries nothing after the set-up: readable
  // means it ended (or the peer misbehaves).
  if (!bootstrap_ended_.has_value()) {
    pollfd p{.fd = bootstrap_->fd(), .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, 0) > 0) {
      uint8_t b;
      const ssize_t r = ::recv(bootstrap_->fd(), &b, 1, MSG_DONTWAIT);
      const int err = errno;
      if (r > 0) {
        SetError(absl::DataLossError(absl::StrCat(
            description_, ": unexpected data on the bootstrap connection")));
      } else if (r == 0 || (err != EAGAIN && err != EINTR)) {
        bootstrap_ended_ = absl::Now();
        changed = true;
      }
    }
  }
  if (bootstrap_ended_.has_value() && !peer_fin_ && !shut_.load() &&
      absl::Now() - *bootstrap_ended_ > kFinGrace) {
    SetError(absl::UnavailableError(absl::StrCat(
        description_,
        ": the peer's bootstrap connection ended without the end of its "
        "stream (the peer stopped or crashed)")));
  }
  return changed;
}

void RdmaTransport::Wait(absl::Time deadline) {
  // Armed, then polled once more: a completion that arrived between the
  // last poll and the arming would otherwise raise no event.
  (void)ibv_req_notify_cq(send_cq_.get(), 0);
  (void)ibv_req_notify_cq(recv_cq_.get(), 0);
  if (Progress()) return;
  const absl::Time until = std::min(deadline, absl::Now() + kWaitSlice);
  mu_.Unlock();
  pollfd p[2] = {{.fd = channel_->fd, .events = POLLIN, .revents = 0},
                 {.fd = wake_.get(), .events = POLLIN, .revents = 0}};
  (void)::poll(p, 2, PollTimeoutMs(until));
  if ((p[0].revents & POLLIN) != 0) {
    ibv_cq* cq = nullptr;
    void* context = nullptr;
    // EAGAIN: the other thread took the event.
    if (ibv_get_cq_event(channel_.get(), &cq, &context) == 0) {
      ibv_ack_cq_events(cq, 1);
    }
  }
  mu_.Lock();
}

absl::Status RdmaTransport::Ended() const {
  if (shut_.load()) {
    return absl::CancelledError(absl::StrCat(description_, ": shut down"));
  }
  return error_;
}

absl::Status RdmaTransport::Write(std::span<const uint8_t> bytes) {
  absl::MutexLock lock(&mu_);
  if (fin_sent_) {
    return absl::FailedPreconditionError(
        absl::StrCat(description_, ": write after ShutdownWrite"));
  }
  while (!bytes.empty()) {
    Progress();
    FT_RETURN_IF_ERROR(Ended());
    if (window_->CanSendData() && !free_send_.empty()) {
      const uint32_t slot = free_send_.back();
      free_send_.pop_back();
      const auto n =
          static_cast<uint32_t>(std::min<size_t>(bytes.size(), chunk_bytes_));
      std::memcpy(send_mem_.data() + size_t{slot} * buffer_bytes_, bytes.data(),
                  n);
      FT_RETURN_IF_ERROR(PostSend(slot, n, false));
      bytes = bytes.subspan(n);
      continue;
    }
    Wait(absl::InfiniteFuture());
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> RdmaTransport::Read(std::span<uint8_t> buf,
                                           absl::Time deadline) {
  FT_CHECK(!buf.empty()) << "Read into an empty buffer";
  absl::MutexLock lock(&mu_);
  while (true) {
    Progress();
    if (shut_.load()) return Ended();
    if (!received_.empty()) {
      Received& r = received_.front();
      const size_t n = std::min<size_t>(buf.size(), r.length - r.offset);
      std::memcpy(buf.data(),
                  recv_mem_.data() + size_t{r.slot} * buffer_bytes_ + r.offset,
                  n);
      r.offset += static_cast<uint32_t>(n);
      if (r.offset == r.length) {
        const uint32_t slot = r.slot;
        received_.pop_front();
        Recycle(slot);
        MaybeReturnCredits();
      }
      return n;
    }
    if (peer_fin_) return 0;
    FT_RETURN_IF_ERROR(Ended());
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(description_, ": nothing to read before the deadline"));
    }
    Wait(deadline);
  }
}

void RdmaTransport::ShutdownWrite() {
  absl::MutexLock lock(&mu_);
  if (fin_sent_) return;
  fin_sent_ = true;
  // The FIN may use the credit kept in reserve.
  const absl::Time deadline = absl::Now() + kFinTimeout;
  while (Ended().ok() && absl::Now() < deadline) {
    Progress();
    if (window_->credits() >= 1 && !free_send_.empty()) {
      const uint32_t slot = free_send_.back();
      free_send_.pop_back();
      if (absl::Status s = PostSend(slot, 0, true); !s.ok()) SetError(s);
      return;
    }
    Wait(deadline);
  }
}

void RdmaTransport::Shutdown() {
  if (shut_.exchange(true)) return;
  const uint64_t one = 1;
  while (::write(wake_.get(), &one, sizeof(one)) < 0 && errno == EINTR) {
  }
  // Tells the peer at once, over TCP.
  bootstrap_->Shutdown();
}

}  // namespace

std::vector<std::string> RdmaDeviceNames() {
  int count = 0;
  DeviceList list(ibv_get_device_list(&count));
  std::vector<std::string> names;
  for (int i = 0; list != nullptr && i < count; ++i) {
    names.emplace_back(ibv_get_device_name(list.get()[i]));
  }
  return names;
}

absl::StatusOr<std::unique_ptr<Transport>> EstablishRdma(
    std::unique_ptr<TcpTransport> bootstrap, const RdmaOptions& options,
    absl::Time deadline) {
  FT_ASSIGN_OR_RETURN(
      std::unique_ptr<RdmaTransport> t,
      RdmaTransport::Create(std::move(bootstrap), options, deadline));
  return t;
}

absl::StatusOr<std::unique_ptr<RdmaListener>> RdmaListener::Listen(
    const TcpListenOptions& bootstrap, RdmaOptions options) {
  // Refused up front, so that a host without a device does not accept
  // connections it cannot serve.
  if (RdmaDeviceNames().empty()) return NoDevice();
  FT_ASSIGN_OR_RETURN(std::unique_ptr<TcpListener> tcp,
                      TcpListener::Listen(bootstrap));
  return std::unique_ptr<RdmaListener>(
      new RdmaListener(std::move(tcp), std::move(options)));
}

absl::StatusOr<std::unique_ptr<Transport>> RdmaListener::Accept(
    absl::Time deadline) {
  FT_ASSIGN_OR_RETURN(std::unique_ptr<TcpTransport> bootstrap,
                      tcp_->AcceptTcp(deadline));
  return EstablishRdma(std::move(bootstrap), options_, deadline);
}

std::string RdmaListener::Describe() const {
  return absl::StrCat("rdma listener (bootstrap ", tcp_->Describe(), ")");
}

absl::StatusOr<std::unique_ptr<Transport>> RdmaConnector::Connect(
    absl::Time deadline) {
  if (RdmaDeviceNames().empty()) return NoDevice();
  FT_ASSIGN_OR_RETURN(std::unique_ptr<TcpTransport> bootstrap,
                      TcpTransport::Connect(bootstrap_, deadline));
  return EstablishRdma(std::move(bootstrap), options_, deadline);
}

std::string RdmaConnector::Describe() const {
  return absl::StrCat("rdma connector (bootstrap ", bootstrap_.local_address,
                      " -> ", bootstrap_.remote_address, ":",
                      bootstrap_.remote_port, ")");
}

}  // namespace ft::logchannel
