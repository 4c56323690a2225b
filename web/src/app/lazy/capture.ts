/** Route group chunk: Snap and the OCR review (libphonenumber, the photo pipeline). */
export { CapturePage } from '../../features/capture/components/CapturePage.tsx';
export { ReviewPage } from '../../features/capture/components/ReviewPage.tsx';
