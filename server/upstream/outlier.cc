#include "server/upstream/outlier.h"

#include <algorithm>

namespace rwproxy {

absl::Duration EjectionDuration(const OutlierSpec& spec, uint32_t level) {
  absl::Duration d = spec.base_ejection_time;
  for (uint32_t i = 1; i < level && d < spec.max_ejection_time; ++i) d *= 2;
  return std::min(d, spec.max_ejection_time);
}

bool MayEject(size_t ejected, size_t total, uint32_t max_percent) {
  if (max_percent == 0 || total == 0) return false;
  if (ejected == 0) return true;
  return (ejected + 1) * 100 <= static_cast<size_t>(max_percent) * total;
}

absl::Duration Eject(const OutlierSpec& spec, EjectionState* state,
                     EjectionState::Clock::time_point now) {
  const bool consecutive =
      state->level > 0 &&
      now - state->returned < absl::ToChronoNanoseconds(EjectionDuration(spec, state->level));
  state->level = consecutive ? state->level + 1 : 1;
  const absl::Duration d = EjectionDuration(spec, state->level);
  state->ejected = true;
  state->until = now + absl::ToChronoNanoseconds(d);
  return d;
}

bool MaybeReturn(EjectionState* state, EjectionState::Clock::time_point now) {
  if (!state->ejected || now < state->until) return false;
  state->ejected = false;
  state->returned = now;
  return true;
}

}  // namespace rwproxy
