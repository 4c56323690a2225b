import { useId, type InputHTMLAttributes, type ReactNode, type Ref, type SelectHTMLAttributes } from 'react';

interface FieldShell {
  label: string;
  /** Help shown under the label, linked with aria-describedby. */
  hint?: ReactNode;
  /** A message for this field; shown with an "Error:" prefix so colour is never the only signal. */
  error?: string | null;
  optional?: boolean;
}

function describedBy(hintId: string, errorId: string, hint: unknown, error: unknown): string | undefined {
  return [hint ? hintId : '', error ? errorId : ''].filter(Boolean).join(' ') || undefined;
}

export function TextField({ label, hint, error, optional, id, className, ...input }: FieldShell & InputHTMLAttributes<HTMLInputElement> & { ref?: Ref<HTMLInputElement> }) {
  const auto = useId();
  const inputId = id ?? `f${auto}`;
  const hintId = `${inputId}-hint`;
  const errorId = `${inputId}-error`;
  return (
    <div className={['field', error ? 'field-invalid' : '', className ?? ''].filter(Boolean).join(' ')}>
      <label htmlFor={inputId}>
        {label}
        {optional ? <span className="optional"> (optional)</span> : null}
      </label>
      {hint ? <p id={hintId} className="hint">{hint}</p> : null}
      <input
        {...input}
        id={inputId}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(hintId, errorId, hint, error)}
        required={optional ? false : input.required}
      />
      {error ? (
        <p id={errorId} className="field-error">
          <span aria-hidden="true">⚠ </span>Error: {error}
        </p>
      ) : null}
    </div>
  );
}

export interface Option {
  value: string;
  label: string;
}

export function SelectField({ label, hint, error, optional, id, options, className, ...select }: FieldShell & SelectHTMLAttributes<HTMLSelectElement> & { options: Option[] }) {
  const auto = useId();
  const selectId = id ?? `f${auto}`;
  const hintId = `${selectId}-hint`;
  const errorId = `${selectId}-error`;
  return (
    <div className={['field', error ? 'field-invalid' : '', className ?? ''].filter(Boolean).join(' ')}>
      <label htmlFor={selectId}>
        {label}
        {optional ? <span className="optional"> (optional)</span> : null}
      </label>
      {hint ? <p id={hintId} className="hint">{hint}</p> : null}
      <select {...select} id={selectId} aria-invalid={error ? true : undefined} aria-describedby={describedBy(hintId, errorId, hint, error)}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {error ? (
        <p id={errorId} className="field-error">
          <span aria-hidden="true">⚠ </span>Error: {error}
        </p>
      ) : null}
    </div>
  );
}
