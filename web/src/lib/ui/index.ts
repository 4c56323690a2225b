export { Button, ButtonLink, type ButtonProps } from './Button.tsx';
export { TextField, SelectField, type Option } from './Field.tsx';
export { Alert, ErrorRegion } from './Alert.tsx';
export { Page, Loading } from './Page.tsx';
export { useOnline } from './useOnline.ts';
export { Icon, type IconName } from './Icon.tsx';
