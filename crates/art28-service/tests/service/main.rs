//! Integration tests of art28-service.
