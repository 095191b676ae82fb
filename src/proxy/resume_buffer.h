// Sequence numbering for one direction of a resumable WebSocket.
//
// ReplayBuffer (sending side): numbers each outgoing message from 1 and keeps
// it until the peer acknowledges it, so a reconnecting peer can be sent what
// it missed. The kept bytes are bounded: past the bound the buffer reports
// over_limit() and a resume must be refused (messages are never dropped
// silently).
//
// InboundCounter (receiving side): counts delivered messages and decides when
// an acknowledgement is due, so acks are batched rather than one per message.
//
// Thread safety: none; each instance belongs to one session's strand.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "proxy/compact_queue.h"

namespace blockyard::proxy {

struct WsMessage {
  bool binary = false;
  std::string payload;
};
// Shared so an in-flight write keeps its bytes even if an ack drops the entry.
using SharedMessage = std::shared_ptr<const WsMessage>;

class ReplayBuffer {
 public:
  explicit ReplayBuffer(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // Appends `message`; returns its sequence number (1, 2, ...).
  std::uint64_t push(SharedMessage message);

  // The peer has received every message up to `n`: they are dropped. Returns
  // false, changing nothing, when n is beyond the last pushed message. An n
  // below an earlier acknowledgement is accepted and changes nothing.
  bool acknowledge(std::uint64_t n);

  // Whether a peer that says it received up to `n` can be brought up to date:
  // nothing it lacks has been dropped, it claims nothing never sent, and the
  // buffer never overflowed.
  bool can_resume_from(std::uint64_t n) const;

  // The message numbered `seq`, or nullptr when it was acknowledged already
  // or never pushed.
  SharedMessage at(std::uint64_t seq) const;

  std::uint64_t last() const { return acknowledged_ + kept_.size(); }
  std::uint64_t acknowledged() const { return acknowledged_; }
  std::size_t kept_bytes() const { return kept_bytes_; }
  // True once the kept bytes exceeded the bound; stays true (the gap a
  // resume would need may already be unrecoverable for the session).
  bool over_limit() const { return overflowed_; }

 private:
  const std::size_t max_bytes_;
  CompactQueue<SharedMessage> kept_;  // acknowledged_ + 1 ... last()
  std::uint64_t acknowledged_ = 0;
  std::size_t kept_bytes_ = 0;
  bool overflowed_ = false;
};

class InboundCounter {
 public:
  // `batch`: an ack is due at once after this many unacknowledged messages.
  explicit InboundCounter(std::uint64_t batch = 16) : batch_(batch) {}

  void on_message() { ++received_; }
  std::uint64_t received() const { return received_; }
  // Something is received but not yet acknowledged to the peer.
  bool ack_pending() const { return received_ > acked_; }
  // Enough is unacknowledged that the ack should not wait for its timer.
  bool ack_urgent() const { return received_ - acked_ >= batch_; }
  // Marks everything received as acknowledged; returns the count to send.
  std::uint64_t take_ack() { return acked_ = received_; }

 private:
  const std::uint64_t batch_;
  std::uint64_t received_ = 0;
  std::uint64_t acked_ = 0;
};

}  // namespace blockyard::proxy
