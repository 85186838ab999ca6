//! Tests of the attach/detach controller (filled below).
