// Node.js >= 20, ES modules: the CommonJS entry (node.cjs) re-exported, so that `import`
// and `require` share one module instance (and one CedatoAuth class) in a process.
import node from "./node.cjs";

export const { CedatoAuth } = node;
