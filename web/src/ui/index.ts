// The UI kit every page builds with. Styles: ui.css (CSS variables, light theme).
import './ui.css';

export { Button, ButtonLink, buttonClass, type ButtonProps, type ButtonVariant } from './Button.tsx';
export { DataTable, type Column, type DataTableProps, type SortState } from './DataTable.tsx';
export { Dialog, type DialogProps } from './Dialog.tsx';
export { CheckboxField, SelectField, TextAreaField, TextField, type Option } from './fields.tsx';
export { Form, useFieldError, type FieldErrors, type FormProps } from './Form.tsx';
export { Icon, type IconName } from './Icon.tsx';
export { Page, Section } from './Page.tsx';
export { EmptyState, ErrorView, Loading } from './states.tsx';
export { Tabs, type TabItem } from './Tabs.tsx';
export { ToastProvider, useToast } from './Toast.tsx';
export { useAsync, type AsyncState } from './useAsync.ts';
