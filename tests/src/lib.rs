//! End-to-end tests of the real binaries; they land with the gateway issue.
