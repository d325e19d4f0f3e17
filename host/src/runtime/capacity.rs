//! How many plugin instances one process may hold at once.
//!
//! Every instance maps four regions of address space for its linear memory
//! (the stack, the module's initial-memory image, the rest of the heap, and
//! the reserved remainder up to the memory cap). Linux caps the mappings of
//! a process at `vm.max_map_count`, 65,530 by default: about 3,900 tenants
//! on a four-step chain. A process past that cap cannot start a thread or
//! grow its own heap, which would hurt every tenant at once. So the runtime
//! counts live instances and refuses a new one before the cap, with an error
//! that names the setting to raise; the tenant whose chain could not start
//! gets dead letters, every other tenant goes on.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Address space left to plugin memories: most of x86-64's 128 TiB of user
/// space, the rest for the process itself.
pub const USABLE_ADDRESS_SPACE: u64 = 120 << 40;

/// Mappings one instance takes (measured: `tests/tenants.rs` prints them).
pub const MAPPINGS_PER_INSTANCE: usize = 4;

/// Mappings left for everything else: thread stacks, the allocator's arenas,
/// the stores' files, the compiled plugins.
pub const RESERVED_MAPPINGS: usize = 8_192;

/// Where the instance limit came from, for the error that reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitSource {
    /// `runner.max_plugin_instances` in the configuration.
    Configured,
    /// Derived from `vm.max_map_count` (the value it was derived from).
    MapCount(usize),
    /// The address space: each instance reserves this many bytes of it.
    AddressSpace(u64),
    /// Not on Linux, or the limit could not be read: no limit.
    Unbounded,
}

/// The process's instance slots.
#[derive(Debug)]
pub struct InstanceSlots {
    live: AtomicUsize,
    capacity: usize,
    limit: LimitSource,
}

impl InstanceSlots {
    /// Slots for `configured` instances, or as many as both the kernel's
    /// mapping limit and the address space leave room for when each instance
    /// reserves `reserved_bytes` of it.
    pub fn new(configured: Option<usize>, reserved_bytes: u64) -> Arc<Self> {
        let by_address = (USABLE_ADDRESS_SPACE / reserved_bytes.max(1)) as usize;
        let (capacity, limit) = match configured {
            Some(capacity) => (capacity, LimitSource::Configured),
            None => match kernel_map_limit() {
                Some((limit, in_use)) => match capacity_for(limit, in_use) {
                    by_mappings if by_mappings < by_address => {
                        (by_mappings, LimitSource::MapCount(limit))
                    }
                    _ => (by_address, LimitSource::AddressSpace(reserved_bytes)),
                },
                None => (usize::MAX, LimitSource::Unbounded),
            },
        };
        Arc::new(Self {
            live: AtomicUsize::new(0),
            capacity,
            limit,
        })
    }

    /// How many instances may be live at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Where the limit came from.
    pub fn limit(&self) -> LimitSource {
        self.limit
    }

    /// How many are live now.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// Take a slot for a new instance; it is given back when the [`Slot`]
    /// drops with its instance.
    pub fn acquire(self: &Arc<Self>) -> Result<Slot, CapacityError> {
        let taken = self
            .live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |live| {
                (live < self.capacity).then_some(live + 1)
            });
        match taken {
            Ok(_) => Ok(Slot(self.clone())),
            Err(_) => Err(CapacityError {
                capacity: self.capacity,
                limit: self.limit,
            }),
        }
    }
}

/// One live instance's share of the limit.
#[derive(Debug)]
pub struct Slot(Arc<InstanceSlots>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The process holds as many plugin instances as it may.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapacityError {
    capacity: usize,
    limit: LimitSource,
}

impl std::error::Error for CapacityError {}

impl std::fmt::Display for CapacityError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let capacity = self.capacity;
        match self.limit {
            LimitSource::Configured => write!(
                f,
                "this process already holds {capacity} plugin instances, the limit set by \
                 runner.max_plugin_instances; raise it or spread tenants over more processes"
            ),
            LimitSource::MapCount(limit) => write!(
                f,
                "this process already holds {capacity} plugin instances, all that \
                 vm.max_map_count = {limit} leaves room for ({MAPPINGS_PER_INSTANCE} memory \
                 mappings each); raise it (sysctl -w vm.max_map_count=262144) or spread \
                 tenants over more processes"
            ),
            LimitSource::AddressSpace(reserved) => write!(
                f,
                "this process already holds {capacity} plugin instances, all its address space \
                 holds at {} MiB each (runner.plugin_memory = \"fast\"); use the dense layout \
                 or spread tenants over more processes",
                reserved >> 20
            ),
            LimitSource::Unbounded => write!(f, "no more plugin instances fit"),
        }
    }
}

/// Instances that fit in `limit` mappings when `in_use` are taken already.
pub fn capacity_for(limit: usize, in_use: usize) -> usize {
    limit.saturating_sub(in_use + RESERVED_MAPPINGS) / MAPPINGS_PER_INSTANCE
}

/// `vm.max_map_count` and the mappings this process holds now.
fn kernel_map_limit() -> Option<(usize, usize)> {
    let limit = std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let in_use = std::fs::read_to_string("/proc/self/maps")
        .ok()?
        .lines()
        .count();
    Some((limit, in_use))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_kernel_limit_holds_a_few_thousand_tenants() {
        let instances = capacity_for(65_530, 500);
        assert_eq!(instances, (65_530 - 500 - RESERVED_MAPPINGS) / 4);
        // Four steps per tenant: about 3,900 tenants before the cap.
        assert!((3_500..4_000).contains(&(instances / 4)), "{instances}");
        assert_eq!(capacity_for(1_000, 500), 0, "a tiny limit leaves none");
    }

    #[test]
    fn slots_are_refused_at_capacity_and_come_back_when_dropped() {
        let slots = InstanceSlots::new(Some(2), 1 << 30);
        let a = slots.acquire().expect("first");
        let _b = slots.acquire().expect("second");
        let refused = slots.acquire().expect_err("third is over the limit");
        assert!(
            refused.to_string().contains("runner.max_plugin_instances"),
            "{refused}"
        );
        assert_eq!(slots.live(), 2);
        drop(a);
        assert_eq!(slots.live(), 1);
        let _c = slots.acquire().expect("a dropped instance frees its slot");
    }

    #[test]
    fn the_kernel_limit_error_says_what_to_raise() {
        let error = CapacityError {
            capacity: 14_000,
            limit: LimitSource::MapCount(65_530),
        };
        let text = error.to_string();
        assert!(text.contains("vm.max_map_count = 65530"), "{text}");
        assert!(text.contains("sysctl -w vm.max_map_count="), "{text}");
    }

    #[test]
    fn the_kernel_limit_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let (limit, in_use) = kernel_map_limit().expect("readable on Linux");
            assert!(limit > 0 && in_use > 0);
            let slots = InstanceSlots::new(None, 112 << 20);
            assert_eq!(slots.limit(), LimitSource::MapCount(limit));
            // With 4 GiB per instance the address space runs out first
            // once the mapping limit is raised.
            let fast = InstanceSlots::new(None, (4 << 30) + (64 << 20));
            if capacity_for(limit, in_use) > 30_000 {
                assert!(matches!(fast.limit(), LimitSource::AddressSpace(_)));
            }
            assert!(fast.capacity() <= 30_250, "{}", fast.capacity());
        }
    }
}
