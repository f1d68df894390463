//! The interpreter drops every value after its last use: a long chain of operations keeps a
//! bounded number of ciphertexts alive even without `free` instructions.

use fhec_ir::{Builder, IoSpec, Opaque, PlaintextSource, Recipe, RecipeError, Scale, Type};
use fhec_runtime::exec::{Backend, ClearBackend, ClearError, run};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Live and peak ciphertext counts.
#[derive(Default)]
struct Counter {
    live: Cell<usize>,
    peak: Cell<usize>,
}

/// A clear ciphertext that reports its lifetime to a counter.
struct Tracked {
    values: Vec<f64>,
    counter: Rc<Counter>,
}

impl Tracked {
    fn new(values: Vec<f64>, counter: &Rc<Counter>) -> Self {
        counter.live.set(counter.live.get() + 1);
        counter.peak.set(counter.peak.get().max(counter.live.get()));
        Tracked {
            values,
            counter: counter.clone(),
        }
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        Tracked::new(self.values.clone(), &self.counter)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.counter.live.set(self.counter.live.get() - 1);
    }
}

/// The clear backend, counting ciphertexts (only the ops this test uses).
struct Counting(Rc<Counter>);

impl Backend for Counting {
    type Cipher = Tracked;
    type Plain = Vec<f64>;
    type Error = ClearError;

    fn check_input(&self, x: &Tracked, ty: &Type) -> Result<(), ClearError> {
        ClearBackend.check_input(&x.values, ty)
    }
    fn encode(&mut self, values: Vec<f64>, ty: &Type) -> Result<Vec<f64>, ClearError> {
        ClearBackend.encode(values, ty)
    }
    fn add(&mut self, a: &Tracked, b: &Tracked, ty: &Type) -> Result<Tracked, ClearError> {
        Ok(Tracked::new(
            ClearBackend.add(&a.values, &b.values, ty)?,
            &self.0,
        ))
    }
    fn sub(&mut self, a: &Tracked, b: &Tracked, ty: &Type) -> Result<Tracked, ClearError> {
        Ok(Tracked::new(
            ClearBackend.sub(&a.values, &b.values, ty)?,
            &self.0,
        ))
    }
    fn neg(&mut self, a: &Tracked, ty: &Type) -> Result<Tracked, ClearError> {
        Ok(Tracked::new(ClearBackend.neg(&a.values, ty)?, &self.0))
    }
    fn add_plain(&mut self, a: &Tracked, p: &Vec<f64>, ty: &Type) -> Result<Tracked, ClearError> {
        Ok(Tracked::new(
            ClearBackend.add_plain(&a.values, p, ty)?,
            &self.0,
        ))
    }
    fn mul_plain(&mut self, a: &Tracked, p: &Vec<f64>, ty: &Type) -> Result<Tracked, ClearError> {
        Ok(Tracked::new(
            ClearBackend.mul_plain(&a.values, p, ty)?,
            &self.0,
        ))
    }
    fn mul_const(
        &mut self,
        a: &Tracked,
        c: f64,
        s: &Scale,
        ty: &Type,
    ) -> Result<Tracked, ClearError> {
        Ok(Tracked::new(
            ClearBackend.mul_const(&a.values, c, s, ty)?,
            &self.0,
        ))
    }
    fn add_const(&mut self, a: &Tracked, c: f64, ty: &Type) -> Result<Tracked, ClearError> {
        Ok(Tracked::new(
            ClearBackend.add_const(&a.values, c, ty)?,
            &self.0,
        ))
    }
    fn mul(&mut self, a: &Tracked, b: &Tracked, ty: &Type) -> Result<Tracked, ClearError> {
        Ok(Tracked::new(
            ClearBackend.mul(&a.values, &b.values, ty)?,
            &self.0,
        ))
    }
    fn rotate(&mut self, a: &Tracked, k: i32, ty: &Type) -> Result<Tracked, ClearError> {
        Ok(Tracked::new(
            ClearBackend.rotate(&a.values, k, ty)?,
            &self.0,
        ))
    }
    fn conjugate(&mut self, a: &Tracked, ty: &Type) -> Result<Tracked, ClearError> {
        Ok(Tracked::new(
            ClearBackend.conjugate(&a.values, ty)?,
            &self.0,
        ))
    }
    fn rescale(&mut self, a: &Tracked, ty: &Type) -> Result<Tracked, ClearError> {
        Ok(Tracked::new(ClearBackend.rescale(&a.values, ty)?, &self.0))
    }
    fn level_down(&mut self, a: &Tracked, ty: &Type) -> Result<Tracked, ClearError> {
        Ok(Tracked::new(
            ClearBackend.level_down(&a.values, ty)?,
            &self.0,
        ))
    }
    fn bootstrap(&mut self, a: &Tracked, ty: &Type) -> Result<Tracked, ClearError> {
        Ok(Tracked::new(
            ClearBackend.bootstrap(&a.values, ty)?,
            &self.0,
        ))
    }
}

struct NoPlaintexts;

impl PlaintextSource for NoPlaintexts {
    fn slots(&self, recipe: &Recipe, _: usize) -> Result<Vec<f64>, RecipeError> {
        Err(RecipeError::new(recipe, "no plaintexts in this test"))
    }
}

#[test]
fn a_long_chain_keeps_few_ciphertexts_alive() {
    let io = |name: &str| IoSpec {
        name: name.into(),
        layout: Opaque::from_ron("()").unwrap(),
    };
    let mut b = Builder::new();
    let x = b
        .input(io("x"), Type::cipher(0, Scale::pow2(40), 4))
        .unwrap();
    let mut y = x;
    for k in 1..=20 {
        y = b.rotate(y, 1).unwrap();
        y = b.add_const(y, f64::from(k)).unwrap();
    }
    b.output(y, io("y")).unwrap();
    let counter = Rc::new(Counter::default());
    let input = Tracked::new(vec![0.0, 1.0, 2.0, 3.0], &counter);
    let inputs = BTreeMap::from([("x".to_string(), input)]);
    let out = run(
        &b.finish(),
        &mut Counting(counter.clone()),
        inputs,
        &NoPlaintexts,
    )
    .unwrap();
    // 20 rotations by one slot are 5 full turns; every slot gained 1 + 2 + ... + 20.
    assert_eq!(out["y"].values, [210.0, 211.0, 212.0, 213.0]);
    assert!(
        counter.peak.get() <= 3,
        "peak of {} live ciphertexts",
        counter.peak.get()
    );
    drop(out);
    assert_eq!(counter.live.get(), 0);
}
