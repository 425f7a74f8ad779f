/**
 * The catalog with live stock: polled every 5 s, and refetched at once when
 * one of my reservations changes (reserving, cancelling and returning move
 * stock). Pages by cursor.
 */
import { useState, type FormEvent } from 'react';
import { useQuery } from '@apollo/client/react';
import { apiError, describeError } from '../errors.ts';
import { CATALOG, type Item } from '../operations.ts';
import { formatMoney } from '../validation.ts';

export const CATALOG_POLL_MS = 5000;
const PAGE = 10;

interface Props {
  onReserve: (item: Item) => void;
}

export function Catalog({ onReserve }: Props) {
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const after = cursors[cursors.length - 1] ?? null;
  const { data, previousData, loading, error, refetch } = useQuery(CATALOG, {
    variables: { first: PAGE, after, filter: applied ? { search: applied } : null },
    pollInterval: CATALOG_POLL_MS,
  });
  const shown = data ?? previousData;
  const items = shown?.items.edges.map((e) => e.node) ?? [];

  const applySearch = (e: FormEvent) => {
    e.preventDefault();
    setApplied(search.trim());
    setCursors([null]);
  };

  return (
    <section className="panel" aria-labelledby="catalog-title">
      <div className="panel-head">
        <h2 id="catalog-title">Catalog</h2>
        <form role="search" onSubmit={applySearch} className="inline-form">
          <label htmlFor="catalog-search" className="visually-hidden">
            Search items by name
          </label>
          <input id="catalog-search" type="search" placeholder="Search by name" value={search} onChange={(e) => setSearch(e.target.value)} />
          <button type="submit" className="secondary">
            Search
          </button>
        </form>
      </div>
      <p className="hint">Stock is refreshed every {CATALOG_POLL_MS / 1000} seconds and whenever one of your reservations changes.</p>

      {error && !shown && (
        <div role="alert" className="form-error">
          {describeError(apiError(error), 'load the catalog')}{' '}
          <button type="button" className="link" onClick={() => void refetch()}>
            Retry
          </button>
        </div>
      )}
      {loading && !shown && <p className="loading" role="status">Loading the catalog…</p>}
      {shown && items.length === 0 && (
        <p className="empty">{applied ? `No item matches “${applied}”.` : 'The catalog is empty: no store has registered an item yet.'}</p>
      )}
      {items.length > 0 && (
        <table className="table" data-testid="catalog">
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Store</th>
              <th scope="col" className="num">
                Per day
              </th>
              <th scope="col" className="num">
                In stock
              </th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.id} data-testid={`item-${item.id}`}>
                <th scope="row">
                  {item.name}
                  <span className="sub">{item.category}</span>
                </th>
                <td>{item.store?.name ?? '—'}</td>
                <td className="num">{formatMoney(item.dailyRate)}</td>
                <td className="num" data-testid="stock">
                  {item.stock > 0 ? item.stock : <span className="badge muted">Out of stock</span>}
                </td>
                <td>
                  <button type="button" className="small" disabled={item.stock < 1} onClick={() => onReserve(item)} aria-label={`Reserve ${item.name}`}>
                    Reserve
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shown && (
        <div className="pager">
          <span>
            {shown.items.totalCount} {shown.items.totalCount === 1 ? 'item' : 'items'}
          </span>
          <button type="button" className="secondary small" disabled={cursors.length < 2} onClick={() => setCursors((c) => c.slice(0, -1))}>
            Previous
          </button>
          <button
            type="button"
            className="secondary small"
            disabled={!shown.items.pageInfo.hasNextPage}
            onClick={() => setCursors((c) => [...c, shown.items.pageInfo.endCursor])}
          >
            Next
          </button>
        </div>
      )}
    </section>
  );
}
