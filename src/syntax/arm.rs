//! ARM JSON templates and parameter files → template model.
