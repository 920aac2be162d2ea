-- Trigram similarity for search suggestions (ADR 0007): the fallback when no term starts
-- with what the shopper typed. In `public`, so every read model's schema (and its rebuild
-- shadow) names it as `public.gin_trgm_ops` and `public.similarity`.
create extension if not exists pg_trgm with schema public;
