//! The sweeper.
