//! Replaced events, kept to read the next changed ones over.
//!
//! A step that changes an event answers with the whole event, which the
//! host reads into an `Event`: a dozen strings allocated for it, and the
//! dozen of the event it replaces freed. Each thread keeps a few replaced
//! events and reads the next answers over them, reusing their allocations,
//! so a chain that changes every event at several steps allocates little
//! once its first batches have run.

use std::cell::RefCell;

use super::Event;

/// Most events a thread keeps: about one batch's worth for one step.
const MAX_SPARE: usize = 256;

/// Events holding more text than this are freed, not kept: one huge event
/// must not pin its memory in a thread for good.
const MAX_SPARE_TEXT: usize = 16 * 1024;

/// Events with more attribute slots than this are freed, not kept.
const MAX_SPARE_ATTRIBUTES: usize = 64;

thread_local! {
    static SPARE: RefCell<Vec<Event>> = const { RefCell::new(Vec::new()) };
}

/// Hand an event that is no longer needed to this thread's spares.
pub fn give(event: Event) {
    let text = event.message.capacity()
        + event.raw.as_ref().map_or(0, String::capacity)
        + event.template.as_ref().map_or(0, String::capacity);
    if text > MAX_SPARE_TEXT || event.attributes.capacity() > MAX_SPARE_ATTRIBUTES {
        return;
    }
    SPARE.with_borrow_mut(|spare| {
        if spare.len() < MAX_SPARE {
            spare.push(event);
        }
    });
}

/// An event to read into: a spare one if this thread has any, else blank.
/// Its fields are whatever it held; the reader overwrites every one.
pub fn take() -> Event {
    SPARE
        .with_borrow_mut(Vec::pop)
        .unwrap_or_else(super::pack::blank_event)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(message: &str) -> Event {
        Event {
            message: message.to_owned(),
            ..crate::runtime::pack::blank_event()
        }
    }

    #[test]
    fn a_given_event_is_taken_back_on_the_same_thread_only() {
        give(event("reused"));
        let other = std::thread::spawn(|| take().message).join().unwrap();
        assert_eq!(other, "", "another thread has its own spares");
        assert_eq!(take().message, "reused");
        assert_eq!(take().message, "", "none left: a blank one");
    }

    #[test]
    fn large_events_and_more_than_the_cap_are_not_kept() {
        give(event(&"x".repeat(MAX_SPARE_TEXT + 1)));
        assert_eq!(take().message, "");
        for _ in 0..MAX_SPARE + 10 {
            give(event("y"));
        }
        let kept = SPARE.with_borrow(Vec::len);
        assert_eq!(kept, MAX_SPARE);
    }
}
