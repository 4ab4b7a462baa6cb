//! The engine's own functions and small helpers over any JS value (`JSON.parse`, `Reflect`
//! reads and writes, a thrown value in a sentence), at the bottom of `src/js`: they use
//! nothing of the layer, so any part of it can import them without an import circle.

use js_sys::{JsString, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    // JSON.parse of a JS string: a 2xx body stays in the engine, never copied into wasm.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub fn parse_json(text: &JsString) -> Result<JsValue, JsValue>;
}

/// Sets a field of an object this crate just made (a plain object, an `Error`): that
/// cannot fail, and if it did, the object would still be usable.
pub fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &key.into(), value);
}

/// A copy of `object`'s own enumerable properties on an object without a prototype:
/// serde-wasm-bindgen looks fields up with `in` and `[]`, which would also find what a
/// polluted `Object.prototype` holds (`Object.prototype.baseUrl = …`), and would run a
/// getter that throws. `None` when reading a property threw.
pub fn own_properties(object: &JsValue) -> Option<JsValue> {
    let bare: js_sys::Object = js_sys::Object::create(JsValue::NULL.unchecked_ref());
    js_sys::Object::try_assign(&bare, object.unchecked_ref())
        .ok()
        .map(JsValue::from)
}

/// `value[key]` when it is a string; never throws (a thrown value may be anything, a
/// getter that throws or `null` included).
pub fn string_field(value: &JsValue, key: &str) -> Option<String> {
    if !(value.is_object() || value.is_function()) {
        return None;
    }
    Reflect::get(value, &key.into()).ok()?.as_string()
}

/// A thrown JS value in a sentence: its message, and its cause's message or code.
pub fn describe(error: &JsValue) -> String {
    let mut out = string_field(error, "message")
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".to_owned());
    let cause = if error.is_object() {
        Reflect::get(error, &"cause".into()).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    };
    if let Some(more) = string_field(&cause, "message").or_else(|| string_field(&cause, "code")) {
        out.push_str(&format!(" ({more})"));
    }
    out
}
