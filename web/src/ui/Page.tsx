import { type ReactNode, useEffect } from 'react';

/** A page's heading and actions; sets document.title to "title · Haven". */
export function Page({ title, actions, description, children, className }: { title: string; actions?: ReactNode; description?: ReactNode; children?: ReactNode; className?: string }) {
  useEffect(() => {
    document.title = `${title} · Haven`;
  }, [title]);
  return (
    <div className={['page', className].filter(Boolean).join(' ')}>
      <div className="page-header">
        <div className="page-heading">
          <h1 className="page-title" tabIndex={-1} id="page-title">{title}</h1>
          {description ? <p className="page-description">{description}</p> : null}
        </div>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </div>
      {children}
    </div>
  );
}

/** A titled block inside a page. */
export function Section({ title, actions, children, className }: { title: string; actions?: ReactNode; children?: ReactNode; className?: string }) {
  return (
    <section className={['section', className].filter(Boolean).join(' ')} aria-label={title}>
      <div className="section-header">
        <h2 className="section-title">{title}</h2>
        {actions ? <div className="section-actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}
