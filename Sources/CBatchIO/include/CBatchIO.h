#ifndef CBATCHIO_H
#define CBATCHIO_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

/// Layout-identical mirror of glibc's `struct mmsghdr` (checked with _Static_assert in shim.c), so Swift
/// can build message vectors without `_GNU_SOURCE` leaking into every module.
typedef struct {
    struct msghdr msg_hdr;
    unsigned int msg_len;
} CBatchIO_mmsghdr;

/// True when this build calls the kernel's sendmmsg/recvmmsg; false when it was compiled with the
/// sendmsg/recvmsg loop only (no sendmmsg in the C library, or `-DCBATCHIO_FORCE_FALLBACK`).
bool CBatchIO_built_with_mmsg(void);

// Return convention of every call below: a count ≥ 0, or the negated errno (-EAGAIN, …) — never
// -1 with errno to read afterwards, which Swift cannot do reliably (the runtime may touch errno
// between the call and the read).

/// sendmmsg(2). Returns the number of messages sent (possibly fewer than `vlen`) or -errno.
/// In a fallback build this is CBatchIO_sendmsg_loop.
int CBatchIO_sendmmsg(int fd, CBatchIO_mmsghdr *vec, unsigned int vlen, int flags);

/// recvmmsg(2) without its (racy) timeout argument. Same return convention as sendmmsg.
int CBatchIO_recvmmsg(int fd, CBatchIO_mmsghdr *vec, unsigned int vlen, int flags);

/// Portable fallback: one sendmsg(2) per message, stopping at the first failure. Returns the count sent
/// if at least one message went out, else -errno — the same contract as sendmmsg, so callers need
/// no second code path (a short count is not an error; the next call reports it).
int CBatchIO_sendmsg_loop(int fd, CBatchIO_mmsghdr *vec, unsigned int vlen, int flags);

/// Portable fallback for recvmmsg: the first recvmsg honours `flags` (it may block); later ones add
/// MSG_DONTWAIT so the call returns as soon as the queue is empty, like recvmmsg with MSG_WAITFORONE.
int CBatchIO_recvmsg_loop(int fd, CBatchIO_mmsghdr *vec, unsigned int vlen, int flags);

/// Run-time probes on a throw-away UDP socket: does the kernel implement the call or option?
bool CBatchIO_probe_sendmmsg(void);
bool CBatchIO_probe_recvmmsg(void);
bool CBatchIO_probe_udp_segment(void);
bool CBatchIO_probe_udp_gro(void);

/// UDP_SEGMENT (GSO): points `msg` at `control` (CBatchIO_segment_control_size() bytes) holding
/// one cmsg that makes the kernel cut the message into datagrams of `segment_size` bytes.
size_t CBatchIO_segment_control_size(void);
void CBatchIO_put_segment_size(struct msghdr *msg, void *control, uint16_t segment_size);

/// UDP_GRO: the segment size the kernel reported for a coalesced receive, or 0 when the message is
/// a single datagram. `msg_control` must have had CBatchIO_gro_control_size() bytes.
size_t CBatchIO_gro_control_size(void);
int CBatchIO_gro_segment_size(const struct msghdr *msg);

/// Waits until one of `pfds` (prepared by the caller with POLLIN, any number) is readable or
/// `timeout_ns` passes (ppoll, nanosecond timeout). Returns the number of ready descriptors, 0 on
/// timeout, or -errno.
int CBatchIO_wait_readable(struct pollfd *pfds, unsigned int count, int64_t timeout_ns);

/// A per-thread wake-up for a blocking receive: a POSIX timer (CLOCK_MONOTONIC) that sends the
/// calling thread a real-time signal whose handler does nothing and is installed without
/// SA_RESTART, so a blocking recvmmsg (or sendmmsg, or sleep) on that thread returns EINTR when it
/// fires. One blocking receive then waits for "a reply or the deadline, whichever comes first",
/// which ppoll + recvmmsg did with two system calls and a second wake-up path.
typedef struct {
    timer_t id;
    bool live;
} CBatchIO_wake_timer;

/// Creates the calling thread's timer (and, once per process, the signal handler), and unblocks
/// the signal on this thread. 0 or -errno.
int CBatchIO_wake_timer_create(CBatchIO_wake_timer *timer);
/// Fires at `at_ns` on CLOCK_MONOTONIC (at once if that has passed), then every `repeat_ns` until
/// armed again or disarmed: a repeat covers the narrow race of a signal that lands just before the
/// receive starts. `at_ns` 0 disarms. 0 or -errno.
int CBatchIO_wake_timer_arm(CBatchIO_wake_timer *timer, uint64_t at_ns, uint64_t repeat_ns);
/// Deletes the timer (safe to call twice). Call it on the owning thread before that thread ends,
/// so no signal can outlive it.
void CBatchIO_wake_timer_delete(CBatchIO_wake_timer *timer);

/// Asks the scheduler to run the calling thread in slices of `slice_ns` (Linux >= 6.12, EEVDF's
/// per-task slice: `sched_attr.sched_runtime` of a SCHED_OTHER thread, 0.1-100 ms, no privilege
/// needed). A thread with a shorter slice gets an earlier deadline when it wakes, so it preempts a
/// task in the middle of a default slice (1.4 ms on a 2-CPU VM) instead of waiting for it to end. Only a
/// SCHED_OTHER thread is touched; its nice value is kept. Returns the slice the kernel reports
/// afterwards in ns (an older kernel ignores the field and reports its own), or -errno; -EPERM
/// for a thread under another policy (left as it is).
int64_t CBatchIO_request_slice(uint64_t slice_ns);

/// The calling thread's own CPU time (user and system) and context switches so far, from
/// getrusage(RUSAGE_THREAD): a voluntary switch is the thread blocking (a sleep, a blocking call),
/// an involuntary one the scheduler taking the CPU from it.
typedef struct {
    uint64_t cpu_ns;
    uint64_t voluntary_switches;
    uint64_t involuntary_switches;
} CBatchIO_thread_usage;
/// 0, or -errno (then `out` is untouched).
int CBatchIO_get_thread_usage(CBatchIO_thread_usage *out);

/// A Linux PM QoS CPU latency request (the misc device /dev/cpu_dma_latency). Opening the device
/// adds a request at the default value, which constrains nothing; writing a 32-bit value of µs
/// lowers it: while it is held, no CPU enters an idle state that takes longer than that to leave
/// (0: idle CPUs poll instead of halting). Reading gives the whole system's current limit, the
/// smallest of everyone's requests. Closing removes the request, and so does the process dying.
/// Open: the descriptor (O_RDWR, close-on-exec), or -errno.
int CBatchIO_cpu_latency_open(const char *path);
/// Sets the request held by `fd` to `us`: 0, or -errno.
int CBatchIO_cpu_latency_set(int fd, int32_t us);
/// The system's current CPU latency limit in µs, read through `fd`, or -errno.
int64_t CBatchIO_cpu_latency_read(int fd);

/// SO_RXQ_OVFL: the count of datagrams the kernel dropped at this socket's receive queue (full
/// buffer) as of when this message was queued, or -1 when the message carries no such cmsg.
int64_t CBatchIO_rxq_drops(const struct msghdr *msg);
size_t CBatchIO_rxq_control_size(void);

/// The socket's drop counter right now (SO_MEMINFO's SK_MEMINFO_DROPS), or -errno. Unlike the
/// SO_RXQ_OVFL cmsg it also counts drops after the last datagram that was read.
int64_t CBatchIO_socket_drops(int fd);

/// One warm-up on `fd`, a UDP socket connected to its own loopback address: sends a 32-byte
/// datagram to itself, then reads without blocking until its queue is empty (at most 8 reads, so
/// what it holds stays bounded). 0, or -errno of the send or of a read that failed otherwise than
/// with EAGAIN.
int CBatchIO_warm_up(int fd);

/// SO_TIMESTAMPING with software receive timestamps (SOF_TIMESTAMPING_RX_SOFTWARE | _SOFTWARE):
/// every datagram read then carries the CLOCK_REALTIME time the kernel received it. 0 or -errno.
int CBatchIO_enable_rx_timestamps(int fd);
size_t CBatchIO_timestamping_control_size(void);

/// The kernel's software receive timestamp of this message (CLOCK_REALTIME ns), or -1 when the
/// message carries none.
int64_t CBatchIO_rx_timestamp_ns(const struct msghdr *msg);

/// CLOCK_REALTIME minus CLOCK_MONOTONIC now, in ns: maps kernel timestamps onto the monotonic clock.
int64_t CBatchIO_realtime_offset_ns(void);

/// STAMP: ask for the TTL (IPv4) and hop limit (IPv6) of every received datagram as a cmsg. Both
/// are tried (a dual-stack socket gets IPv4 datagrams too); 0, or -errno when neither could be set.
int CBatchIO_enable_recv_ttl(int fd);
/// Control bytes one datagram's TTL cmsg takes.
size_t CBatchIO_ttl_control_size(void);
/// The received TTL or hop limit from a message's control data, or -1 when there is none.
int CBatchIO_received_ttl(const struct msghdr *msg);
/// CLOCK_REALTIME in ns since 1970.
int64_t CBatchIO_realtime_ns(void);
/// The system clock's state from adjtimex: 1 when synchronized to an external source (no
/// STA_UNSYNC, not TIME_ERROR), 0 when not, -errno on failure. `error_us` gets the kernel's
/// estimated error (synchronized) or maximum error (not), in µs; `tai_s` the TAI − UTC offset (0
/// when nobody set it).
int CBatchIO_clock_status(int64_t *error_us, int32_t *tai_s);

/// The path MTU the kernel knows for a connected socket (IP_MTU / IPV6_MTU), or -errno.
int CBatchIO_path_mtu(int fd, int family);

/// Lets this thread's sleeps end within `ns` of when they were asked to (PR_SET_TIMERSLACK);
/// the default 50 µs slack would make pacing lumpy.
void CBatchIO_set_timer_slack(unsigned long ns);

/// Flag values Swift cannot see through Glibc.
extern const int CBatchIO_MSG_WAITFORONE;
extern const int CBatchIO_MSG_TRUNC;
extern const int CBatchIO_MSG_DONTWAIT;
extern const int CBatchIO_SOL_UDP;
extern const int CBatchIO_UDP_SEGMENT;
extern const int CBatchIO_UDP_GRO;
extern const int CBatchIO_SO_RXQ_OVFL;

#endif
