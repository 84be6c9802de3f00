//! Partial evaluation of the template model: every value known, or unknown with a reason.
