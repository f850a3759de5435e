// A table with a caption, sortable column headers (aria-sort) and optional
// row selection checkboxes. Sorting is local unless onSortChange is given
// (the server sorts).
import { type ReactNode, useMemo, useState } from 'react';
import { useT } from '../app/i18n.tsx';
import { Icon } from './Icon.tsx';

export interface Column<T> {
  key: string;
  header: string;
  render: (row: T) => ReactNode;
  /** Makes the column sortable (locally with this comparator, or by the server with onSortChange). */
  sort?: ((a: T, b: T) => number) | true;
  className?: string;
}

export interface SortState { key: string; direction: 'asc' | 'desc' }

export interface DataTableProps<T> {
  caption: string;
  /** Hide the caption visually (it still names the table). */
  captionHidden?: boolean;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  /** Accessible name of a row's checkbox, e.g. the video's title. */
  rowLabel?: (row: T) => string;
  selected?: ReadonlySet<string>;
  onSelectionChange?: (selected: Set<string>) => void;
  sort?: SortState;
  onSortChange?: (sort: SortState) => void;
  empty?: ReactNode;
}

export function DataTable<T>(props: DataTableProps<T>) {
  const { caption, captionHidden, columns, rows, rowKey, rowLabel, selected, onSelectionChange, onSortChange, empty } = props;
  const t = useT();
  const [localSort, setLocalSort] = useState<SortState | undefined>(undefined);
  const sort = props.sort ?? localSort;

  const shown = useMemo(() => {
    if (onSortChange || !sort) return rows;
    const col = columns.find((c) => c.key === sort.key);
    if (!col || typeof col.sort !== 'function') return rows;
    const cmp = col.sort;
    const sorted = [...rows].sort(cmp);
    return sort.direction === 'desc' ? sorted.reverse() : sorted;
  }, [rows, columns, sort, onSortChange]);

  function toggleSort(key: string) {
    const next: SortState = sort?.key === key && sort.direction === 'asc' ? { key, direction: 'desc' } : { key, direction: 'asc' };
    if (onSortChange) onSortChange(next); else setLocalSort(next);
  }

  const selectable = Boolean(onSelectionChange);
  const allSelected = selectable && rows.length > 0 && rows.every((r) => selected?.has(rowKey(r)));
  const someSelected = selectable && rows.some((r) => selected?.has(rowKey(r)));

  function toggleAll() {
    onSelectionChange?.(allSelected ? new Set() : new Set(rows.map(rowKey)));
  }
  function toggleRow(key: string) {
    const next = new Set(selected ?? []);
    if (next.has(key)) next.delete(key); else next.add(key);
    onSelectionChange?.(next);
  }

  return (
    // A region of its own: on narrow screens the table scrolls sideways, and keyboard users must reach that scroll.
    <div className="table-wrap" role="region" aria-label={caption} tabIndex={0}>
      <table className="table">
        <caption className={captionHidden ? 'visually-hidden' : 'table-caption'}>{caption}</caption>
        <thead>
          <tr>
            {selectable ? (
              <th scope="col" className="table-select">
                <input
                  type="checkbox"
                  className="checkbox"
                  checked={allSelected}
                  ref={(el) => { if (el) el.indeterminate = !allSelected && someSelected; }}
                  onChange={toggleAll}
                  aria-label={t('shell.ui.selectAll')}
                />
              </th>
            ) : null}
            {columns.map((c) => {
              const active = sort?.key === c.key;
              return (
                <th key={c.key} scope="col" className={c.className} aria-sort={c.sort ? (active ? (sort!.direction === 'asc' ? 'ascending' : 'descending') : 'none') : undefined}>
                  {c.sort ? (
                    <button type="button" className="table-sort" onClick={() => toggleSort(c.key)}>
                      {c.header}
                      <Icon name={active ? (sort!.direction === 'asc' ? 'chevronUp' : 'chevronDown') : 'sort'} size={16} />
                    </button>
                  ) : c.header}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {shown.length === 0 ? (
            <tr><td colSpan={columns.length + (selectable ? 1 : 0)} className="table-empty">{empty ?? t('shell.ui.noRows')}</td></tr>
          ) : shown.map((row) => {
            const key = rowKey(row);
            const isSelected = selected?.has(key) ?? false;
            return (
              <tr key={key} className={isSelected ? 'is-selected' : undefined}>
                {selectable ? (
                  <td className="table-select">
                    <input type="checkbox" className="checkbox" checked={isSelected} onChange={() => toggleRow(key)} aria-label={t('shell.ui.selectRow', { name: rowLabel ? rowLabel(row) : key })} />
                  </td>
                ) : null}
                {columns.map((c) => <td key={c.key} className={c.className}>{c.render(row)}</td>)}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
