// A small typed client over the generated schema types: it compiles only while the schema
// describes what these calls rely on (pagination wrappers, the error shape, search fields).
import type { components, paths } from "./generated/api";

export type ApiError = components["schemas"]["Error"];
type Json<P extends keyof paths, M extends "get" | "post", S extends number> =
  paths[P][M] extends { responses: { [K in S]: { content: { "application/json": infer T } } } }
    ? T
    : never;

export type ProductPage = Json<"/api/v1/catalog/products/", "get", 200>;
export type SearchResult = Json<"/api/v1/catalog/products/search/", "get", 200>;
export type NotFound = Json<"/api/v1/catalog/products/{id}/", "get", 404>;

export class PlatformClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private async get<T>(path: string): Promise<T> {
    const response = await fetch(this.baseUrl + path, {
      headers: { Authorization: `Bearer ${this.token}`, Accept: "application/json" },
    });
    if (!response.ok) {
      const body = (await response.json()) as ApiError;
      throw new Error(`${response.status} ${body.error.code}: ${body.error.message}`);
    }
    return (await response.json()) as T;
  }

  async productNames(): Promise<string[]> {
    const page = await this.get<ProductPage>("/api/v1/catalog/products/");
    const next: string | null | undefined = page.next;
    return next === undefined ? [] : page.results.map((product) => product.name);
  }

  async search(q: string): Promise<{ mode: SearchResult["mode"]; partial: boolean }> {
    const found = await this.get<SearchResult>(`/api/v1/catalog/products/search/?q=${q}`);
    return { mode: found.mode, partial: found.partial };
  }
}

export function errorCode(body: NotFound): string {
  return body.error.code;
}
