import { crashMatrix } from './matrix.ts';

crashMatrix(1);
