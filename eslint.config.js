import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // .dependency-cruiser.cjs is plain CommonJS data read by `npm run lint:imports`.
  {ignores: ["dist/**", "node_modules/**", "coverage/**", ".scratch/**", ".dependency-cruiser.cjs"]},
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {parserOptions: {projectService: true, tsconfigRootDir: import.meta.dirname}},
    rules: {
      "@typescript-eslint/explicit-function-return-type": ["error", {allowExpressions: true}],
      "@typescript-eslint/return-await": ["error", "in-try-catch"],
      "@typescript-eslint/only-throw-error": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", {argsIgnorePattern: "^_", varsIgnorePattern: "^_"}],
      "no-restricted-globals": ["error", {name: "fetch", message: "use the undici peer client"}],
      "no-console": "error",
      "max-depth": ["error", 4],
    },
  },
  {files: ["src/cli/**", "bench/**", "test/**"], rules: {"no-console": "off"}},
  {
    files: ["test/**", "bench/**"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/explicit-function-return-type": "off",
    },
  },
  {files: ["eslint.config.js"], ...tseslint.configs.disableTypeChecked},
);
