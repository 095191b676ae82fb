#include "store/alias_phase.h"

#include "store/store.h"
#include "store/timestamp.h"

namespace blockyard::store {

std::optional<AppAlias> alias_at(AppAlias row, const std::string& now) {
  // Same fixed-width UTC format: string order is time order.
  if (now < row.expires_at) return row;
  if (row.phase != "alias") return std::nullopt;
  auto expired = parse_rfc3339(row.expires_at);
  if (!expired) return std::nullopt;
  row.phase = "redirect";
  row.expires_at = format_rfc3339(*expired + kRedirectPhase);
  if (now < row.expires_at) return row;
  return std::nullopt;
}

}  // namespace blockyard::store
