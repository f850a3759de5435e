import type { ButtonHTMLAttributes, ReactNode } from 'react';
import { Link, type LinkProps } from 'react-router';
import { Icon, type IconName } from './Icon.tsx';

export type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'ghost';

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: ButtonVariant;
  icon?: IconName;
  /** Shows a spinner, disables the button and sets aria-busy. */
  busy?: boolean;
  children?: ReactNode;
}

export function buttonClass(variant: ButtonVariant = 'secondary', extra?: string): string {
  return ['btn', `btn-${variant}`, extra].filter(Boolean).join(' ');
}

export function Button({ variant = 'secondary', icon, busy, className, children, disabled, type = 'button', ...rest }: ButtonProps) {
  return (
    <button type={type} className={buttonClass(variant, className)} disabled={disabled || busy} aria-busy={busy || undefined} {...rest}>
      {busy ? <span className="spinner spinner-small" aria-hidden="true" /> : icon ? <Icon name={icon} size={18} /> : null}
      {children}
    </button>
  );
}

/** A router link styled as a button. */
export function ButtonLink({ variant = 'secondary', icon, className, children, ...rest }: LinkProps & { variant?: ButtonVariant; icon?: IconName }) {
  return (
    <Link className={buttonClass(variant, className)} {...rest}>
      {icon ? <Icon name={icon} size={18} /> : null}
      {children}
    </Link>
  );
}
