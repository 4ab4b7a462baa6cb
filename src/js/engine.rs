//! Bindings to the engine's own functions (`JSON.parse`), at the bottom of `src/js`: they
//! use nothing of the layer, so any part of it can import them without an import circle.

use js_sys::JsString;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    // JSON.parse of a JS string: a 2xx body stays in the engine, never copied into wasm.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub(crate) fn parse_json(text: &JsString) -> Result<JsValue, JsValue>;
}
