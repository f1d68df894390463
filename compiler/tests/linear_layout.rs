//! Slot layouts: both directions agree, elements never overlap, replicas are where the period
//! says, the compact text and serde forms round-trip, and bad layouts are refused by name.

use fhec_compiler::layout::{Layout, LayoutError, LayoutParams, SlotRef};
use fhec_ir::Opaque;
use std::collections::HashMap;

/// Every element has `replicas` slots, all distinct, each mapping back to the element; every
/// other slot is empty.
fn check_bijection(layout: &Layout) {
    let mut owner: HashMap<SlotRef, [usize; 3]> = HashMap::new();
    for element in layout.elements_iter() {
        let slots: Vec<SlotRef> = layout.slots_of(element).collect();
        assert_eq!(slots.len(), layout.replicas(), "{layout}: {element:?}");
        assert_eq!(Some(slots[0]), layout.slot_of(element));
        for (t, r) in slots.iter().enumerate() {
            assert_eq!(r.slot, slots[0].slot + t * layout.period());
            assert!(r.ct < layout.cts() && r.slot < layout.slots());
            assert_eq!(layout.element_at(r.ct, r.slot), Some(element), "{layout}");
            assert!(
                owner.insert(*r, element).is_none(),
                "{layout}: overlap at {r:?}"
            );
        }
    }
    for ct in 0..layout.cts() {
        for slot in 0..layout.slots() {
            let r = SlotRef { ct, slot };
            assert_eq!(layout.element_at(ct, slot), owner.get(&r).copied());
        }
    }
}

#[test]
fn packed_layout_replicates_to_fill_the_slots() {
    let layout = Layout::packed([3, 4, 4], 128).unwrap();
    assert_eq!(
        (layout.period(), layout.replicas(), layout.cts()),
        (64, 2, 1)
    );
    assert_eq!(
        layout.slot_of([1, 2, 3]),
        Some(SlotRef {
            ct: 0,
            slot: 16 + 2 * 4 + 3
        })
    );
    assert_eq!(layout.element_at(0, 64 + 16 + 11), Some([1, 2, 3]));
    assert_eq!(layout.element_at(0, 48), None, "the fourth plane is empty");
    assert_eq!(layout.slot_of([3, 0, 0]), None);
    check_bijection(&layout);
}

#[test]
fn gaps_and_multiplexing() {
    let gapped = Layout::strided([4, 4, 4], 256, 2, 1).unwrap();
    assert_eq!(
        gapped.slot_of([1, 1, 1]),
        Some(SlotRef {
            ct: 0,
            slot: 64 + 2 * 8 + 2
        })
    );
    assert_eq!(
        gapped.element_at(0, 64 + 8 + 1),
        None,
        "a gap slot is empty"
    );
    check_bijection(&gapped);
    let muxed = Layout::strided([8, 4, 4], 128, 2, 2).unwrap();
    assert_eq!((muxed.period(), muxed.replicas()), (128, 1));
    // Channel 3 is the fourth channel of plane 0: sub-position (1, 1).
    assert_eq!(
        muxed.slot_of([3, 0, 0]),
        Some(SlotRef { ct: 0, slot: 8 + 1 })
    );
    assert_eq!(
        muxed.slot_of([5, 1, 2]),
        Some(SlotRef {
            ct: 0,
            slot: 64 + 2 * 8 + 4 + 1
        })
    );
    check_bijection(&muxed);
    // Fewer channels than a plane holds: the unused sub-positions stay empty.
    check_bijection(&Layout::strided([3, 2, 2], 16, 2, 2).unwrap());
}

#[test]
fn tensors_larger_than_one_ciphertext_take_several() {
    let layout = Layout::packed([8, 4, 4], 32).unwrap();
    assert_eq!(
        (layout.cts(), layout.period(), layout.replicas()),
        (4, 32, 1)
    );
    assert_eq!(
        layout.slot_of([5, 0, 1]),
        Some(SlotRef {
            ct: 2,
            slot: 16 + 1
        })
    );
    check_bijection(&layout);
    let vector = Layout::packed([10, 1, 1], 64).unwrap();
    assert_eq!((vector.period(), vector.replicas()), (16, 4));
    check_bijection(&vector);
}

#[test]
fn pack_and_unpack_round_trip() {
    let layout = Layout::strided([2, 3, 3], 256, 2, 1).unwrap();
    let tensor: Vec<f64> = (0..18).map(f64::from).collect();
    let cts = layout.pack(&tensor).unwrap();
    assert_eq!(cts.len(), 1);
    assert_eq!(layout.period(), 128);
    assert_eq!(cts[0][128 + 36 + 4 * 6 + 4], 17.0, "replica of (1, 2, 2)");
    assert_eq!(layout.unpack(&cts).unwrap(), tensor);
    assert!(matches!(
        layout.pack(&tensor[1..]),
        Err(LayoutError::Data { .. })
    ));
    assert!(matches!(
        layout.unpack(&[vec![0.0; 64]]),
        Err(LayoutError::Data { .. })
    ));
}

#[test]
fn text_and_serde_forms_round_trip() {
    let layout = Layout::strided([16, 8, 8], 1024, 2, 2).unwrap();
    let text = layout.to_string();
    assert_eq!(
        text,
        "16x8x8 n=1024 gap=2x2 mux=2 plane=16x16 planes=4 period=1024"
    );
    assert_eq!(text.parse::<Layout>().unwrap(), layout);
    let opaque = Opaque::encode(&layout).unwrap();
    assert_eq!(opaque.as_ron(), format!("{text:?}"));
    assert_eq!(opaque.decode::<Layout>().unwrap(), layout);
    // Keys may come in any order.
    let shuffled = "16x8x8 period=1024 planes=4 plane=16x16 mux=2 gap=2x2 n=1024";
    assert_eq!(shuffled.parse::<Layout>().unwrap(), layout);
}

fn params() -> LayoutParams {
    Layout::packed([2, 4, 4], 64).unwrap().params()
}

fn refused(params: LayoutParams) -> String {
    Layout::new(params).unwrap_err().to_string()
}

#[test]
fn bad_layouts_are_refused_with_the_reason() {
    let p = params();
    assert!(refused(LayoutParams { mux: 2, ..p }).contains("overlapping elements"));
    assert!(
        refused(LayoutParams {
            planes_per_ct: 5,
            ..p
        })
        .contains("does not fit: 5 planes of 16 slots per ciphertext need 80 slots")
    );
    assert!(refused(LayoutParams { period: 24, ..p }).contains("period 24"));
    assert!(refused(LayoutParams { slots: 48, ..p }).contains("slot count 48"));
    assert!(refused(LayoutParams { plane: [3, 4], ..p }).contains("needs a plane of at least 4x4"));
    assert!(
        refused(LayoutParams {
            shape: [0, 4, 4],
            ..p
        })
        .contains("the channel count")
    );
    assert!(
        Layout::packed([2, 16, 16], 128).is_err(),
        "a 256-slot plane in 128 slots"
    );
}

#[test]
fn malformed_text_is_refused_with_the_reason() {
    let error = |text: &str| text.parse::<Layout>().unwrap_err().to_string();
    assert!(error("").contains("empty layout"));
    assert!(error("2x4 n=64").contains("3 numbers"));
    assert!(error("2x4x4 n=64 gap=1x1 mux=1 plane=4x4 planes=2").contains("missing period="));
    assert!(error("2x4x4 n=64 n=64").contains("n given twice"));
    assert!(error("2x4x4 colour=red").contains("unknown key"));
    assert!(error("2x4x4 n=-1").contains("not a non-negative integer"));
    assert!(ron::from_str::<Layout>("\"2x4x4 n=64\"").is_err());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Any strided, multiplexed layout that builds is a bijection with replicas where the
    /// period says, and reads back from its text.
    #[test]
    fn random_layouts_are_bijections(
        c in 1usize..7, h in 1usize..5, w in 1usize..5, gap in 1usize..4, mux_pick in 0usize..3,
        log_n in 4u32..9,
    ) {
        let mux = 1 + mux_pick % gap;
        if let Ok(layout) = Layout::strided([c, h, w], 1 << log_n, gap, mux) {
            check_bijection(&layout);
            proptest::prop_assert_eq!(layout.to_string().parse::<Layout>().unwrap(), layout);
        }
    }
}
