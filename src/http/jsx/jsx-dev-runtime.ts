/** The development entry of the dashboard's JSX runtime (./jsx-runtime.ts); the same functions. */
export { Fragment, jsxDEV, type JSX } from "./jsx-runtime";
