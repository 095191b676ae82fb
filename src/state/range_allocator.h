// RangeAllocator: numbers from an inclusive range, each held by one claimant
// at a time: worker ports and worker UIDs. Every claim carries an owner (the
// host the server runs on), so servers sharing a range (a shared-state
// implementation, several servers on one host) never hand out the same
// number twice, and a server restarting after a crash can drop what its host
// held before (release_stale_claims) without touching anyone else's.
//
// The contract below is what range_allocator_conformance.h checks.
//
// Thread safety: every method may be called from any thread.
// Failure: the memory implementation never fails; one backed by a service
// throws std::runtime_error when it cannot reach it.
#pragma once

#include <optional>
#include <string>

namespace blockyard::state {

class RangeAllocator {
 public:
  virtual ~RangeAllocator() = default;

  virtual int first() const = 0;
  virtual int last() const = 0;
  // Numbers in the range (0 for a reversed range).
  int size() const { return last() >= first() ? last() - first() + 1 : 0; }

  // Claims the lowest free number >= `from` (the range's start when `from`
  // is below it) for this allocator's owner; nullopt when none is free.
  virtual std::optional<int> claim(int from) = 0;
  std::optional<int> claim() { return claim(first()); }
  // Gives `n` back. False (and nothing changes) when `n` is outside the
  // range, not claimed, or claimed by another owner.
  virtual bool release(int n) = 0;
  // Numbers claimed now, by any owner.
  virtual int in_use() = 0;
  // Releases every claim of this allocator's owner: at start-up, what a
  // crashed predecessor on this host still held. Returns how many.
  virtual int release_stale_claims() = 0;
};

}  // namespace blockyard::state
