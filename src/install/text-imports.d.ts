// Files that esbuild embeds as strings (see units.ts).
declare module '*.service' {
  const text: string;
  export default text;
}
