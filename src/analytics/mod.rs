//! Analytics over records (SPEC §5): pure functions, records in, numbers out.
